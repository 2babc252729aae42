// The .aic container the CLI writes: a small header with what the input was, then the session's
// payloads in order, each prefixed by its length. Format (all integers little-endian):
//   "AICS" | version u8 (1) | 3 reserved bytes | metadata length u32 | metadata (UTF-8 JSON)
//   then until the end: payload length u32 | payload (an aic payload, docs/bitstream.md)
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { AicError } from '../errors.js';
import { fsError } from './errors.js';

export type ContainerMeta =
  | { kind: 'image'; source: string; width: number; height: number; format: 'rgb24' | 'rgba'; hadAlpha: boolean }
  | { kind: 'video'; source: string; width: number; height: number; fps: [number, number]; interlace: string; aspect: string; colorspace: string; frames: number }
  | { kind: 'audio'; source: string; sampleRate: number; codedRate: number; channels: number; sampleFormat: 's16' | 'f32'; samples: number; delaySamples: number }
  | { kind: 'data'; source: string; bytes: number };

const MAGIC = Buffer.from('AICS');

export class ContainerWriter {
  readonly #fd: number;
  bytes = 0;

  constructor(path: string, meta: ContainerMeta) {
    try {
      this.#fd = openSync(path, 'w');
    } catch (error) {
      throw fsError(error, path, true);
    }
    const json = Buffer.from(JSON.stringify(meta));
    const head = Buffer.alloc(12);
    MAGIC.copy(head, 0);
    head[4] = 1;
    head.writeUInt32LE(json.length, 8);
    this.#write(head);
    this.#write(json);
  }

  #write(b: Buffer): void {
    writeSync(this.#fd, b);
    this.bytes += b.length;
  }

  add(payload: Buffer): void {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(payload.length);
    this.#write(len);
    this.#write(payload);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** Reads a container: its metadata, then its payloads one by one. */
export class ContainerReader {
  readonly meta: ContainerMeta;
  readonly #fd: number;
  #pos = 0;

  constructor(readonly path: string) {
    try {
      this.#fd = openSync(path, 'r');
    } catch (error) {
      throw fsError(error, path, false);
    }
    const head = Buffer.alloc(12);
    const got = readSync(this.#fd, head, 0, 12, 0);
    this.#pos = got;
    if (got < 12 || !head.subarray(0, 4).equals(MAGIC)) throw new AicError('CORRUPT_PAYLOAD', `${path} is not an aic container (made by 'aic compress')`);
    if (head[4] !== 1) throw new AicError('UNSUPPORTED_VERSION', `${path} is an aic container of version ${head[4]}; this aic reads version 1`);
    const json = this.#read(head.readUInt32LE(8));
    if (!json) throw new AicError('CORRUPT_PAYLOAD', `${path} is truncated in its header`);
    try {
      this.meta = JSON.parse(json.toString('utf8')) as ContainerMeta;
    } catch {
      throw new AicError('CORRUPT_PAYLOAD', `${path} has unreadable metadata`);
    }
  }

  /** n bytes, null at the end of the file; a partial read means the file was cut short. */
  #read(n: number): Buffer | null {
    const b = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      const r = readSync(this.#fd, b, got, n - got, this.#pos + got);
      if (r === 0) break;
      got += r;
    }
    this.#pos += got;
    if (got === n) return b;
    if (got === 0) return null;
    throw new AicError('CORRUPT_PAYLOAD', `${this.path} is truncated in the middle of a payload`);
  }

  /** How many payloads follow, from their length prefixes alone (for the progress bar). */
  count(): number {
    const len = Buffer.alloc(4);
    let n = 0;
    for (let pos = this.#pos; readSync(this.#fd, len, 0, 4, pos) === 4; n++) pos += 4 + len.readUInt32LE(0);
    return n;
  }

  /** The next payload, or null at the end. */
  next(): Buffer | null {
    const len = this.#read(4);
    if (!len) return null;
    const payload = this.#read(len.readUInt32LE(0));
    if (!payload) throw new AicError('CORRUPT_PAYLOAD', `${this.path} is truncated in the middle of a payload`);
    return payload;
  }

  close(): void {
    closeSync(this.#fd);
  }
}
