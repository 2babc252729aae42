// What a file is, from its first bytes (PNG, JPEG, WebP, WAV, Y4M, the .aic container), and the
// checks every input goes through first: it exists, is a file, is not empty, and holds what its
// extension says.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { CliError, fsError } from './errors.js';

export type Format = 'png' | 'jpeg' | 'webp' | 'wav' | 'y4m' | 'aic';

export const FORMAT_NAMES: Record<Format, string> = {
  png: 'a PNG image',
  jpeg: 'a JPEG image',
  webp: 'a WebP image',
  wav: 'a WAV file',
  y4m: 'a Y4M (YUV4MPEG2) video',
  aic: 'an aic container',
};

const BY_EXTENSION: Record<string, Format> = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg', '.webp': 'webp', '.wav': 'wav', '.y4m': 'y4m', '.aic': 'aic' };

/** The format an extension promises, if it is one aic knows. */
export function formatOfName(file: string): Format | undefined {
  return BY_EXTENSION[path.extname(file).toLowerCase()];
}

export function sniff(head: Buffer): Format | undefined {
  const latin = (a: number, b: number) => head.toString('latin1', a, b);
  if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (latin(0, 4) === 'RIFF' && latin(8, 12) === 'WEBP') return 'webp';
  if (latin(0, 4) === 'RIFF' && latin(8, 12) === 'WAVE') return 'wav';
  if (latin(0, 9) === 'YUV4MPEG2') return 'y4m';
  if (latin(0, 4) === 'AICS') return 'aic';
  return undefined;
}

/** For messages: what a file that is none of aic's formats looks like. */
function looksLike(head: Buffer): string {
  if (head.toString('latin1', 0, 4) === 'RIFF') return `a RIFF file of type '${head.toString('latin1', 8, 12)}'`;
  let text = true;
  for (const c of head) if (c < 9 || (c > 13 && c < 32 && c !== 27) || c === 127) text = false;
  if (text) return 'text';
  return 'data of no format aic knows';
}

export interface Checked {
  file: string;
  size: number;
  /** The format its bytes show, if any. */
  format: Format | undefined;
  /** What it holds, for messages: 'a PNG image', 'text'. */
  described: string;
}

/** Checks an input file before any work: exists, is a regular file, not empty, readable. */
export function checkInput(file: string, command: string): Checked {
  let st;
  try {
    st = statSync(file);
  } catch (error) {
    const e = fsError(error, file, false);
    if (e instanceof CliError && (error as { code?: string }).code === 'ENOENT') throw new CliError('NOT_FOUND', `${file}: no such file`, command);
    throw e;
  }
  if (st.isDirectory()) throw new CliError('NOT_A_FILE', `${file} is a directory; aic ${command} takes one file`, command);
  if (!st.isFile()) throw new CliError('NOT_A_FILE', `${file} is not a regular file`, command);
  if (st.size === 0) throw new CliError('EMPTY_INPUT', `${file} is empty (0 bytes): there is nothing to ${command}`);
  let head: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      head = Buffer.alloc(512);
      head = head.subarray(0, readSync(fd, head, 0, 512, 0));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw fsError(error, file, false);
  }
  const format = sniff(head);
  return { file, size: st.size, format, described: format ? FORMAT_NAMES[format] : looksLike(head) };
}

/** Throws CONTENT_MISMATCH when the file's name promises a format its bytes are not. */
export function checkExtension(c: Checked): void {
  const promised = formatOfName(c.file);
  if (!promised || promised === c.format) return;
  throw new CliError(
    'CONTENT_MISMATCH',
    `${c.file} is named ${path.extname(c.file)} but holds ${c.described}, not ${FORMAT_NAMES[promised]}` + (c.format ? ' (rename it to match, or pass --type)' : ' (pass --type data to carry it as bytes)'),
  );
}
