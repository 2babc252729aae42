// ImageCodec: the neural image codec of a model that follows the model contract. Encodes RGB
// frames into self-contained payloads and decodes them back, off the event loop.
import type {
  ImageCodec as NativeImageCodec,
  NativeImageDecodeResult,
  NativeImageEncodeOptions,
  NativeImageEncodeResult,
  NativeImageFrame,
} from '../bindings.js';
import { AicError, awaitNative, callNative } from './errors.js';
import type { ImageManifest } from './manifest.js';
import type { Model } from './model.js';

export type ImageFrame = NativeImageFrame;
export type ImageEncodeResult = NativeImageEncodeResult;
export type DecodedImage<D extends ArrayBufferView = ArrayBufferView> = NativeImageDecodeResult<D>;

export interface ImageEncodeOptions extends Partial<NativeImageEncodeOptions> {
  /** Quality level, 0 (fewest bytes) .. levels-1 (best quality); default: the middle level. */
  level?: number;
}

export interface ImageDecodeOptions {
  /** A Buffer of width*height*3 (rgb24) or *4 (rgba) bytes to write the pixels into. */
  output?: ArrayBufferView;
}

export class ImageCodec {
  readonly manifest: ImageManifest;
  readonly model: Model;
  readonly #native: NativeImageCodec;

  /** @internal Use engine.loadImageCodec(). */
  constructor(native: NativeImageCodec, model: Model, manifest: ImageManifest) {
    this.#native = native;
    this.model = model;
    this.manifest = manifest;
  }

  get name(): string {
    return this.manifest.name;
  }
  get version(): string {
    return this.manifest.version;
  }
  /** Number of quality levels (rate points). */
  get levels(): number {
    return this.manifest.levels.length;
  }
  /** The id written into every payload: FNV-1a of "name@version". */
  get modelId(): number {
    return this.#native.modelId;
  }
  get defaultLevel(): number {
    return Math.floor(this.levels / 2);
  }

  #options(options: ImageEncodeOptions | undefined): NativeImageEncodeOptions {
    const o = options ?? {};
    const level = o.level ?? this.defaultLevel;
    if (!Number.isInteger(level) || level < 0 || level >= this.levels) {
      throw new AicError('INVALID_ARGUMENT', `level must be an integer from 0 to ${this.levels - 1}, got ${String(level)}`);
    }
    return { ...o, level };
  }

  #checkOpen(): void {
    if (this.model.closed) throw new AicError('CLOSED', `image codec '${this.name}' is closed; load it again with engine.loadImageCodec()`);
  }

  async encode(frame: ImageFrame, options?: ImageEncodeOptions): Promise<ImageEncodeResult> {
    this.#checkOpen();
    const opts = this.#options(options);
    return awaitNative(callNative(() => this.#native.encode(frame, opts)));
  }

  encodeSync(frame: ImageFrame, options?: ImageEncodeOptions): ImageEncodeResult {
    this.#checkOpen();
    const opts = this.#options(options);
    return callNative(() => this.#native.encodeSync(frame, opts));
  }

  async decode(payload: ArrayBufferView, options?: ImageDecodeOptions): Promise<DecodedImage> {
    this.#checkOpen();
    return awaitNative(callNative(() => this.#native.decode(payload, options?.output ?? null)));
  }

  decodeSync(payload: ArrayBufferView, options?: ImageDecodeOptions): DecodedImage {
    this.#checkOpen();
    return callNative(() => this.#native.decodeSync(payload, options?.output ?? null));
  }
}
