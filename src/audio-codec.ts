// AudioCodec: the streaming neural audio codec of a model that follows the model contract.
// One encoder stream per sending stream and one decoder stream per receiving stream; their state
// (previous frame, overlap, resampler history) lives in native memory. Calls on one stream are
// queued, so frames are coded in the order they were handed over.
import { SerialQueue } from './serial-queue.js';
import type { AudioScoreWindow, NativeAudioStep, AudioDecoderStream as NativeDecoder, AudioEncoderStream as NativeEncoder, AudioCodec as NativeAudioCodec, NativeAudioDecodeResult, NativeTimings } from '../bindings.js';
import { AudioBatcher } from './audio-batcher.js';
import { CodecBase } from './codec-base.js';
import { AicError, awaitNative, callNative } from './errors.js';
import type { AudioManifest } from './manifest.js';
import type { Model } from './model.js';

export type SampleFormat = 's16le' | 'f32le';
export type DecodedAudio = NativeAudioDecodeResult;

export interface AudioFrameInput {
  /** 20 ms of interleaved PCM: sampleRate / 50 samples per channel. */
  data: ArrayBufferView;
  format: SampleFormat;
}

export interface AudioEncodeOptions {
  /** Quality level; default: the middle level. */
  level?: number;
  /** Sequence number written into the payload; default: the stream's own counter. */
  sequence?: number;
  /** Microseconds, written into the payload. */
  timestamp?: number;
  /**
   * Discontinuous transmission: a frame of background (no voice: the room between words) goes
   * out as a silence descriptor, 7 bytes per channel at 16 kHz and 13 at 48 kHz besides the
   * header, which the decoder plays as comfort noise, as it does every frame it conceals after
   * one (docs/audio-codec.md, "Silence"). Never a stream's first frame. Default false.
   */
  dtx?: boolean;
}

export const SUPPORTED_AUDIO_RATES = [8000, 16000, 32000, 48000] as const;


export class AudioEncoder {
  readonly sampleRate: number;
  readonly channels: number;
  readonly #native: NativeEncoder;
  readonly #codec: AudioCodec;
  readonly #queue = new SerialQueue();
  #sequence = 0;

  /** @internal */
  constructor(native: NativeEncoder, codec: AudioCodec, sampleRate: number, channels: number) {
    this.#native = native;
    this.#codec = codec;
    this.sampleRate = sampleRate;
    this.channels = channels;
  }

  /** @internal The native stream (tests of the batch call). */
  nativeStream(): NativeEncoder {
    return this.#native;
  }

  /** Samples per channel in one 20 ms frame. */
  get frameSamples(): number {
    return this.sampleRate / 50;
  }

  #options(options: AudioEncodeOptions | undefined): { level: number; sequence: number; timestamp?: number; dtx?: boolean } {
    const l = this.#codec.levelOrDefault(options?.level);
    const sequence = options?.sequence ?? this.#sequence;
    this.#sequence = (sequence + 1) >>> 0;
    if (options?.dtx !== undefined && typeof options.dtx !== 'boolean') throw new AicError('INVALID_ARGUMENT', 'options.dtx must be true or false');
    return { level: l, sequence: sequence & 0x7fffffff, ...(options?.timestamp !== undefined ? { timestamp: options.timestamp } : {}), ...(options?.dtx ? { dtx: true } : {}) };
  }

  encode(frame: AudioFrameInput, options?: AudioEncodeOptions): Promise<{ payload: Buffer; timings: NativeTimings }> {
    const opts = this.#options(options);
    const input = { ...frame, sampleRate: this.sampleRate, channels: this.channels };
    return this.#queue.run(() => awaitNative(callNative(() => this.#native.encode(input, opts))));
  }

  encodeSync(frame: AudioFrameInput, options?: AudioEncodeOptions): { payload: Buffer; timings: NativeTimings } {
    const opts = this.#options(options);
    return callNative(() => this.#native.encodeSync({ ...frame, sampleRate: this.sampleRate, channels: this.channels }, opts));
  }

  /**
   * @internal A sending session's whole per-frame step in one native call off the JS thread:
   * encode, decode with the session's shadow decoder exactly as the receiver will, and push input
   * and output (mono) into the score window after marking it (`exact`: the frame's audio reaches
   * the receiver exactly, as right after a codec restart). The shadow's queue is bypassed: the
   * session serialises its frames, and the batch holds both streams' locks in native code. The
   * step runs in a batch with the other streams' steps of this codec (audio-batcher.ts).
   */
  encodeAndScore(frame: AudioFrameInput, options: AudioEncodeOptions | undefined, shadow: AudioDecoder, window: AudioScoreWindow, exact: boolean): Promise<NativeAudioStep> {
    const opts = this.#options(options);
    const input = { data: frame.data, format: frame.format, sampleRate: this.sampleRate, channels: this.channels };
    // Batched with the other streams' frames of this codec (audio-batcher.ts).
    return this.#queue.run(() => this.#codec.batcher.run({ encoder: this.#native, frame: input, options: opts, shadow: shadow.nativeStream(), window, exact }));
  }
}

export class AudioDecoder {
  readonly #native: NativeDecoder;
  readonly #queue = new SerialQueue();

  /** @internal */
  constructor(native: NativeDecoder) {
    this.#native = native;
  }

  /** @internal The native stream, for AudioEncoder.encodeAndScore() (the shadow of a batch item). */
  nativeStream(): NativeDecoder {
    return this.#native;
  }

  /** Decodes the next frame of the stream. Output lags the input by one frame (the codec's overlap). */
  decode(payload: ArrayBufferView): Promise<DecodedAudio> {
    return this.#queue.run(() => awaitNative(callNative(() => this.#native.decode(payload))));
  }

  decodeSync(payload: ArrayBufferView): DecodedAudio {
    return callNative(() => this.#native.decodeSync(payload));
  }

  /** Makes up a frame that was lost from the last one decoded; the next real frame decodes normally. */
  conceal(): Promise<DecodedAudio> {
    return this.#queue.run(() => awaitNative(callNative(() => this.#native.conceal())));
  }

  concealSync(): DecodedAudio {
    return callNative(() => this.#native.concealSync());
  }
}

export class AudioCodec extends CodecBase<AudioManifest> {
  readonly #native: NativeAudioCodec;
  /** @internal The sending sessions' per-frame steps, batched across streams. */
  readonly batcher = new AudioBatcher();

  /** @internal Use engine.loadAudioCodec(). */
  constructor(native: NativeAudioCodec, model: Model, manifest: AudioManifest) {
    super(manifest, model, native.modelId);
    this.#native = native;
  }

  /** @internal */
  levelOrDefault(level: number | undefined): number {
    return this.checkLevel(level);
  }

  /** A sending stream of `channels` (1 or 2) at `sampleRate` (8000, 16000, 32000 or 48000 Hz). */
  createEncoder(sampleRate: number, channels: number): AudioEncoder {
    this.checkOpen();
    if (!(SUPPORTED_AUDIO_RATES as readonly number[]).includes(sampleRate)) {
      throw new AicError('INVALID_ARGUMENT', `sample rate ${String(sampleRate)} Hz is not supported; use one of ${SUPPORTED_AUDIO_RATES.join(', ')}`);
    }
    if (channels !== 1 && channels !== 2) throw new AicError('INVALID_ARGUMENT', `channels must be 1 or 2, got ${String(channels)}`);
    return new AudioEncoder(callNative(() => this.#native.createEncoder(sampleRate, channels)), this, sampleRate, channels);
  }

  /** Samples per channel at `sampleRate` by which a stream's decoded output trails its input. */
  delaySamples(sampleRate: number): number {
    return callNative(() => this.#native.delaySamples(sampleRate));
  }

  /** A receiving stream; it takes its format from the payloads. */
  createDecoder(): AudioDecoder {
    this.checkOpen();
    return new AudioDecoder(callNative(() => this.#native.createDecoder()));
  }
}
