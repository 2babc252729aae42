// ImageCodec: the neural image codec of a model that follows the model contract. Encodes RGB
// frames into self-contained payloads and decodes them back, off the event loop.
import type {
  ImageCodec as NativeImageCodec,
  NativeImageDecodeResult,
  NativeImageEncodeOptions,
  NativeImageEncodeResult,
  NativeImageFrame,
  NativeImageSearchOptions,
  NativeImageSearchResult,
} from '../bindings.js';
import { CodecBase } from './codec-base.js';
import { AicError, awaitNative, callNative } from './errors.js';
import type { ImageManifest } from './manifest.js';
import type { Model } from './model.js';

export type ImageFrame = NativeImageFrame;
export type ImageSearchOptions = NativeImageSearchOptions;
export type ImageSearchResult = NativeImageSearchResult;
export type ImageEncodeResult = NativeImageEncodeResult;
export type DecodedImage<D extends ArrayBufferView = ArrayBufferView> = NativeImageDecodeResult<D>;

export interface ImageEncodeOptions extends Partial<NativeImageEncodeOptions> {
  /** Quality level, 0 (fewest bytes) .. levels-1 (best quality); default: the middle level. */
  level?: number;
}

export interface ImageDecodeOptions {
  /** A Buffer to write the pixels into: width*height*3 (rgb24), *4 (rgba), or the I420 size. */
  output?: ArrayBufferView;
}

export class ImageCodec extends CodecBase<ImageManifest> {
  readonly #native: NativeImageCodec;

  /** @internal Use engine.loadImageCodec(). */
  constructor(native: NativeImageCodec, model: Model, manifest: ImageManifest) {
    super(manifest, model, native.modelId);
    this.#native = native;
  }

  /** @internal The native codec, for the inter streams that take their keyframes from it. */
  nativeCodec(): NativeImageCodec {
    this.checkOpen();
    return this.#native;
  }

  #options(options: ImageEncodeOptions | undefined): NativeImageEncodeOptions {
    let copy: ImageEncodeOptions;
    try {
      copy = { ...options };
    } catch (error) {
      // A throwing getter or a revoked Proxy: a caller mistake, not a bug.
      throw new AicError('INVALID_ARGUMENT', `image encode options could not be read (${error instanceof Error ? error.message : String(error)}); pass a plain object`, { cause: error });
    }
    return { ...copy, level: this.checkLevel(copy.level) };
  }

  async encode(frame: ImageFrame, options?: ImageEncodeOptions): Promise<ImageEncodeResult> {
    this.checkOpen();
    const opts = this.#options(options);
    return awaitNative(callNative(() => this.#native.encode(frame, opts)));
  }

  encodeSync(frame: ImageFrame, options?: ImageEncodeOptions): ImageEncodeResult {
    this.checkOpen();
    const opts = this.#options(options);
    return callNative(() => this.#native.encodeSync(frame, opts));
  }

  /**
   * Closed-loop coding: the encoder runs once, then levels from `startLevel` are coded, decoded
   * and scored (SSIM) until one reaches `aim` (native/core/image/image_search.h). Sessions use this.
   */
  async compress(frame: ImageFrame, options: ImageSearchOptions): Promise<ImageSearchResult> {
    this.checkOpen();
    return awaitNative(callNative(() => this.#native.compress(frame, options)));
  }

  async decode(payload: ArrayBufferView, options?: ImageDecodeOptions): Promise<DecodedImage> {
    this.checkOpen();
    return awaitNative(callNative(() => this.#native.decode(payload, options?.output ?? null)));
  }

  decodeSync(payload: ArrayBufferView, options?: ImageDecodeOptions): DecodedImage {
    this.checkOpen();
    return callNative(() => this.#native.decodeSync(payload, options?.output ?? null));
  }
}
