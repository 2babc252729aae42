// YUV4MPEG2 (.y4m) reading and writing, 4:2:0 8-bit only (what the codec takes as i420), read
// frame by frame so that long clips do not have to fit in memory.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { CliError, fsError } from './errors.js';

export interface Y4mHeader {
  width: number;
  height: number;
  fps: [number, number];
  interlace: string;
  aspect: string;
  colorspace: string;
}

const CHROMA_420 = new Set(['420', '420jpeg', '420paldv', '420mpeg2']);

function bad(message: string): never {
  throw new CliError('CORRUPT_INPUT', message);
}

export class Y4mReader {
  readonly header: Y4mHeader;
  readonly frameBytes: number;
  readonly #fd: number;
  #pos = 0;

  constructor(readonly path: string) {
    try {
      this.#fd = openSync(path, 'r');
    } catch (error) {
      throw fsError(error, path, false);
    }
    const line = this.#line(1024);
    if (!line || !line.startsWith('YUV4MPEG2')) bad(`${path} is not a YUV4MPEG2 file`);
    const h: Y4mHeader = { width: 0, height: 0, fps: [30, 1], interlace: 'p', aspect: '0:0', colorspace: '420jpeg' };
    for (const token of line.split(' ').slice(1)) {
      const v = token.slice(1);
      switch (token[0]) {
        case 'W':
          h.width = Number(v);
          break;
        case 'H':
          h.height = Number(v);
          break;
        case 'F': {
          const [n, d] = v.split(':').map(Number);
          if (!(n! > 0 && d! > 0)) bad(`${path}: bad frame rate '${v}'`);
          h.fps = [n!, d!];
          break;
        }
        case 'I':
          h.interlace = v;
          break;
        case 'A':
          h.aspect = v;
          break;
        case 'C':
          h.colorspace = v;
          break;
        default:
          break;
      }
    }
    if (!Number.isInteger(h.width) || !Number.isInteger(h.height) || h.width < 1 || h.height < 1) bad(`${path}: missing or bad W/H in the header`);
    if (!CHROMA_420.has(h.colorspace)) throw new CliError('UNSUPPORTED_INPUT', `${path} is ${h.colorspace} video; aic codes 8-bit 4:2:0 (convert with: ffmpeg -i in.y4m -pix_fmt yuv420p out.y4m)`);
    this.header = h;
    this.frameBytes = h.width * h.height + 2 * Math.ceil(h.width / 2) * Math.ceil(h.height / 2);
  }

  #line(max: number): string | null {
    const b = Buffer.alloc(max);
    const n = readSync(this.#fd, b, 0, max, this.#pos);
    if (n === 0) return null;
    const end = b.subarray(0, n).indexOf(0x0a);
    if (end < 0) bad(`${this.path}: a header line is missing its end`);
    this.#pos += end + 1;
    return b.toString('latin1', 0, end);
  }

  /** The next frame's I420 bytes, or null at the end. */
  next(): Buffer | null {
    const line = this.#line(256);
    if (line === null) return null;
    if (!line.startsWith('FRAME')) bad(`${this.path}: expected FRAME at byte ${this.#pos}`);
    const frame = Buffer.alloc(this.frameBytes);
    const n = readSync(this.#fd, frame, 0, this.frameBytes, this.#pos);
    if (n !== this.frameBytes) bad(`${this.path} is truncated: its last frame is cut short`);
    this.#pos += n;
    return frame;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

export class Y4mWriter {
  readonly #fd: number;
  constructor(path: string, h: Y4mHeader) {
    try {
      this.#fd = openSync(path, 'w');
    } catch (error) {
      throw fsError(error, path, true);
    }
    writeSync(this.#fd, `YUV4MPEG2 W${h.width} H${h.height} F${h.fps[0]}:${h.fps[1]} I${h.interlace} A${h.aspect} C${h.colorspace}\n`);
  }
  add(frame: Buffer): void {
    writeSync(this.#fd, 'FRAME\n');
    writeSync(this.#fd, frame);
  }
  close(): void {
    closeSync(this.#fd);
  }
}
