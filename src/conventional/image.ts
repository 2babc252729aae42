// The conventional image codecs of the fallback ladder: WebP and JPEG, the codecs a media server
// sends frames with when there is no AI. They come through sharp (libvips, with libwebp and
// libjpeg-turbo inside), which ships prebuilt binaries for every platform the package targets and
// runs on libuv's thread pool, off the event loop. I420 frames are converted to RGB (and back on
// the receiving side) in C++, also off the event loop.
//
// A payload's body is the codec's own file (a WebP RIFF or a JPEG stream); the payload header
// carries the frame's format and size, and its quality level field the codec's quality setting.
import type Sharp from 'sharp';
import { AicError } from '../errors.js';
import type { PixelFormat } from '../frames.js';
import { native } from '../native/load.js';

export type ConventionalImageCodec = 'webp' | 'jpeg';

export interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  format: PixelFormat;
}

// sharp (and libvips with it) loads at the first conventional frame, not with the package: it is
// a third of the package's load time (24 ms here), and many servers never fall back.
let sharpModule: typeof Sharp | undefined;
function sharp(...args: Parameters<typeof Sharp>): Sharp.Sharp {
  if (!sharpModule) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sharpModule = require('sharp') as typeof Sharp;
    // One frame is one libvips pipeline: no extra threads per frame beside libuv's pool, so that
    // many sessions share the machine's cores instead of oversubscribing them.
    sharpModule.concurrency(1);
    sharpModule.cache(false);
  }
  return sharpModule(...args);
}

// The scan of a frame's alpha runs once per frame however many steps ask (keyed by its Buffer).
const translucency = new WeakMap<Buffer, boolean>();

/** True when any pixel of an rgba frame is not fully opaque (its alpha then has to be carried). */
export function hasTranslucency(image: RawImage): boolean {
  if (image.format !== 'rgba') return false;
  const known = translucency.get(image.data);
  if (known !== undefined) return known;
  const d = image.data;
  let found = false;
  for (let i = 3; i < d.length && !found; i += 4) found = d[i] !== 255;
  translucency.set(image.data, found);
  return found;
}

/**
 * The codec a frame goes out with when the neural path cannot serve it. WebP carries alpha
 * losslessly, so translucent frames use it; otherwise JPEG: at SSIM 0.85 on Kodak cropped to
 * 640x360 its median payload is 3 % larger than WebP's at effort 0 (15.1 KB against 14.6 KB), and
 * a trial (encode, decode, score) takes two thirds of the time (22 ms against 33 ms median on two
 * cores): node bench/conventional-image.mjs, docs/results/conventional-image.json.
 */
export function conventionalCodecFor(image: RawImage, accepted: ReadonlySet<string>): ConventionalImageCodec | null {
  const translucent = hasTranslucency(image);
  if (translucent) return accepted.has('webp') ? 'webp' : null;
  if (accepted.has('jpeg')) return 'jpeg';
  return accepted.has('webp') ? 'webp' : null;
}

/** Body size of a frame sent at 1/2^k of its size (k 0..MAX_DOWNSCALE): the receiver scales it back up. */
export const MAX_DOWNSCALE = 3;
export function scaledSize(width: number, height: number, k: number): [number, number] {
  return [Math.ceil(width / 2 ** k), Math.ceil(height / 2 ** k)];
}

/**
 * Encodes a frame with a conventional codec at `quality` (1-100), at 1/2^downscale of its size
 * (the last resort of a link too narrow for the frame at any setting).
 */
export async function encodeConventional(image: RawImage, codec: ConventionalImageCodec, quality: number, downscale = 0): Promise<Buffer> {
  let pixels = image.data;
  let channels: 3 | 4 = image.format === 'rgba' ? 4 : 3;
  if (image.format === 'i420') {
    pixels = await native().convertFrame(image.data, image.width, image.height, 'i420', 'rgb24');
    channels = 3;
  }
  let input = sharp(pixels, { raw: { width: image.width, height: image.height, channels } });
  if (downscale > 0) {
    const [w, h] = scaledSize(image.width, image.height, downscale);
    input = sharp(await input.resize(w, h, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer(), { raw: { width: w, height: h, channels } });
  }
  if (codec === 'jpeg') {
    // 4:2:0 as a WebRTC stack sends; Huffman tables optimised (a few % smaller for ~no time).
    return (channels === 4 ? input.removeAlpha() : input).jpeg({ quality, chromaSubsampling: '4:2:0', optimiseCoding: true, mozjpeg: false }).toBuffer();
  }
  // Effort 0: the real-time setting (higher efforts cost 2-5x the time for a few % of bytes);
  // alpha exactly as given.
  return input.webp({ quality, effort: 0, alphaQuality: 100, smartSubsample: false }).toBuffer();
}

/**
 * Decodes a conventional payload body into the frame's own format, checking that it holds an
 * image of the size the header states (and no more: sharp refuses inputs over that many pixels
 * before it allocates for them, so a small body cannot make it allocate without bound).
 */
export async function decodeConventional(body: Buffer, codec: ConventionalImageCodec, format: PixelFormat, width: number, height: number): Promise<Buffer> {
  const corrupt = (why: string, cause?: unknown) =>
    new AicError('CORRUPT_PAYLOAD', `the payload's ${codec === 'webp' ? 'WebP' : 'JPEG'} body ${why}; the payload is corrupt`, cause ? { cause } : undefined);
  const magicOk = codec === 'jpeg' ? body.length > 3 && body[0] === 0xff && body[1] === 0xd8 : body.length > 12 && body.toString('latin1', 0, 4) === 'RIFF' && body.toString('latin1', 8, 12) === 'WEBP';
  if (!magicOk) throw corrupt(`is not a ${codec === 'webp' ? 'WebP' : 'JPEG'} image`);
  let decoded: { data: Buffer; info: Sharp.OutputInfo };
  try {
    const img = sharp(body, { failOn: 'error', limitInputPixels: Math.max(1, width * height), sequentialRead: true });
    // Before any pixel is decoded: the body's own size must be the header's or a downscale of it.
    const meta = await img.metadata();
    if (!meta.width || !meta.height || meta.width > width || meta.height > height) throw new Error(`body is ${meta.width}x${meta.height}`);
    const channels = format === 'rgba' ? 4 : 3;
    decoded = await (channels === 4 ? img.ensureAlpha() : img.removeAlpha()).raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw corrupt('does not decode', error);
  }
  const { info } = decoded;
  let pixels = decoded.data;
  if (info.width !== width || info.height !== height) {
    // A downscaled body (a link too narrow for the full size): scale it back up.
    let k = 1;
    while (k <= MAX_DOWNSCALE && (scaledSize(width, height, k)[0] !== info.width || scaledSize(width, height, k)[1] !== info.height)) k++;
    if (k > MAX_DOWNSCALE) throw corrupt(`holds a ${info.width}x${info.height} image, its header ${width}x${height}`);
    pixels = await sharp(pixels, { raw: { width: info.width, height: info.height, channels: info.channels } }).resize(width, height, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
  }
  if (format === 'i420') return native().convertFrame(pixels, width, height, 'rgb24', 'i420');
  return pixels;
}
