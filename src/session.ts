// Session: one media stream's state on one side of a call. compressFrame() turns raw frames into
// payloads under the session's mode, rate control and fallback policy; decompressFrame() turns
// payloads back into frames (the far side opens its own session). docs/api.md describes the
// policy; this file is where it is carried out.
import type { AudioScoreWindow } from '../bindings.js';
import type { AudioDecoder, AudioEncoder } from './audio-codec.js';
import type { AudioCodec } from './audio-codec.js';
import { AicError } from './errors.js';
import { AUDIO_RATES, audioBytes, checkFrame, imageBytes, PIXEL_FORMAT_CODE, SAMPLE_FORMAT_CODE, type AudioSampleFormat, type CheckedFrame, type Frame, type FrameType, type PixelFormat } from './frames.js';
import type { ImageCodec } from './image-codec.js';
import { packLossless, unpackLossless } from './lossless.js';
import { checkMode, checkUnit, MODE_DEFAULTS, type CompressionMode } from './modes.js';
import { native } from './native.js';
import { checkNetwork, NetworkAdapter, type NetworkAnalysis, type NetworkConditions, type NetworkRecommendation } from './network.js';
import { AudioRateController, ImageRateController } from './rate-control.js';
import { Distribution, type DistributionSummary } from './stats.js';

export type FallbackReason = 'quality' | 'latency' | 'error' | 'model_unavailable';
export type CompressStatus = 'success' | 'fallback' | 'quality_threshold_not_met';
export type PayloadCodec = 'neural-image' | 'neural-audio' | 'deflate' | 'stored';

export interface SessionOptions {
  /** Names the session in stats and errors; must be unique among the engine's open sessions. Default: generated. */
  sessionId?: string;
  /** Default 'adaptive'. */
  mode?: CompressionMode;
  /** 1 - compressed/original the session aims to save at least; default: the mode's (adaptive 0.80). */
  targetCompressionRatio?: number;
  /** Quality floor in [0, 1]; default: the mode's (adaptive 0.85). */
  minQualityScore?: number;
  /** Latency budget of one frame in ms (default 20); Infinity for none. */
  maxLatencyMs?: number;
  /** Send frames the neural path cannot serve (quality, latency) losslessly; default true. */
  enableFallback?: boolean;
  /** Decode and score every neural frame before sending it (closed loop); default true. */
  verifyQuality?: boolean;
}

export interface CompressOptions {
  /** Current network conditions of the path the payload takes. */
  network?: NetworkConditions;
  /** A Buffer to write the payload into; it must hold originalBytes + 44 bytes (the largest payload possible). */
  output?: Buffer;
}

export interface FrameQuality {
  /** In [0, 1]: SSIM for video and screen, the audio score for audio, 1 for lossless payloads. */
  score: number;
  ssim?: number;
  psnrDb?: number;
  siSnrDb?: number;
  logMelDistanceDb?: number;
  /** Measured on the reconstruction (true), or predicted from history because verifyQuality is off (false). */
  verified: boolean;
}

export interface FrameTimings {
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  totalMs: number;
}

export interface CompressResult {
  payload: Buffer;
  status: CompressStatus;
  fallbackReason?: FallbackReason;
  frameType: FrameType;
  codec: PayloadCodec;
  originalBytes: number;
  compressedBytes: number;
  /** 1 - compressedBytes / originalBytes. */
  compressionRatio: number;
  /** The model level used; null for lossless payloads. */
  qualityLevel: number | null;
  quality: FrameQuality;
  timings: FrameTimings;
  /** Decode-and-score passes spent (image frames). */
  passes: number;
  /** Mode, target and floor this frame was coded under (after network adaptation). */
  mode: CompressionMode;
  targetCompressionRatio: number;
  minQualityScore: number;
  sequence: number;
}

export interface DecompressOptions {
  /** A Buffer to write the frame's bytes into; it must be exactly the frame's size. */
  output?: Buffer;
}

export interface DecompressedFrame {
  type: FrameType;
  /** Pixel or sample format; 'bytes' for data frames. */
  format: PixelFormat | AudioSampleFormat | 'bytes';
  data: Buffer;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  timestamp: number;
  sequence: number;
  keyframe: boolean;
  /** The payload was a lossless fallback. */
  fallback: boolean;
  codec: PayloadCodec;
  qualityLevel: number | null;
  /** Audio: the frame was made up by concealFrame(). */
  concealed?: boolean;
  /**
   * Audio: where `data` starts relative to the start of the frame this payload carried, in
   * samples per channel. Lossless frames come back on time (0); neural frames trail by the
   * codec's delay (negative). A player that places each frame at sequence x frame length +
   * offsetSamples (lossless samples winning where they overlap) gets one continuous timeline
   * across switches between the two.
   */
  offsetSamples?: number;
  timings: { totalMs: number };
}

export interface CompressionHints {
  recommendedMode: CompressionMode;
  recommendedCompressionRatio: number;
  predictedCompressionRatio: number;
  predictedQualityScore: number;
  predictedLatencyMs: number;
  predictedLevel: number | null;
  /** 0..1: how much history the prediction rests on and how steady it has been. */
  confidence: number;
  network: NetworkAnalysis | null;
}

export interface FrameMeta {
  type: FrameType;
  width?: number;
  height?: number;
  format?: PixelFormat | AudioSampleFormat;
  sampleRate?: number;
  channels?: number;
  bytes?: number;
}

export interface SessionStats {
  sessionId: string;
  mode: CompressionMode;
  closed: boolean;
  framesProcessed: number;
  framesCompressed: number;
  framesFallback: number;
  framesQualityNotMet: number;
  framesLossless: number;
  fallbacks: Record<FallbackReason, number>;
  framesByType: Record<FrameType, number>;
  framesDecompressed: number;
  bytesIn: number;
  bytesOut: number;
  bandwidthSavedBytes: number;
  modeChanges: number;
  /** Frames whose neural path took longer than maxLatencyMs (sent anyway: the time was already spent). */
  latencyBudgetExceeded: number;
  compressionRatio: DistributionSummary;
  qualityScore: DistributionSummary;
  latencyMs: DistributionSummary;
  passesPerFrame: number;
  startedAt: number;
  lastActivityAt: number;
}

/** What a session needs from its engine. */
export interface SessionHost {
  image(): ImageCodec | null;
  imageUnavailable(): string;
  audio(): AudioCodec | null;
  audioUnavailable(): string;
  released(session: Session): void;
}

const HEADER_AND_CRC = 44;
// Audio quality is measured over the last second the receiver has played (one 20 ms frame is
// too little for a spectral measure to be stable: half a second proved noisy enough to double
// the fallbacks on real speech), updated frame by frame in C++.
const AUDIO_WINDOW_SECONDS = 1;
// Lossless run after the audio score falls under the floor at the top level: 1 s, so that a
// stream the model cannot serve does not switch back and forth (each switch costs 20 ms).
const AUDIO_LOSSLESS_RUN = 50;
// A session blocked by its latency prediction still tries the neural path every this many frames,
// so that the prediction follows the machine's load.
const LATENCY_PROBE_EVERY = 30;

function now(): number {
  return performance.now();
}

function toMono(bytes: Buffer, format: AudioSampleFormat, channels: number): Float32Array {
  const n = bytes.length / (format === 'f32le' ? 4 : 2) / channels;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) {
      const k = i * channels + c;
      s += format === 'f32le' ? bytes.readFloatLE(k * 4) : bytes.readInt16LE(k * 2) / 32768;
    }
    out[i] = s / channels;
  }
  return out;
}

/** Sender-side audio state of one stream format (rate, channels, sample format). */
interface AudioSendState {
  key: string;
  // The codec streams; they restart (on both sides) after a lossless frame.
  encoder: AudioEncoder | null;
  shadow: AudioDecoder | null;
  // What persists across restarts: the level controller and the score of what the receiver
  // plays against the input (aligned by the codec's delay; lossless frames enter it exactly).
  controller: AudioRateController;
  window: AudioScoreWindow;
  losslessRun: number;
  lowAtTop: number;
  // The codec streams were just (re)started after lossless frames: the first neural output
  // covers audio the receiver already has exactly.
  restarted: boolean;
}

interface AudioReceiveState {
  key: string;
  decoder: AudioDecoder;
  lastNeural: boolean;
}

let generatedIds = 0;

export class Session {
  readonly sessionId: string;
  readonly options: Readonly<Required<SessionOptions>>;
  readonly #host: SessionHost;
  #closed = false;
  #closeReason = '';
  #sequence = 0;
  #lastActivity = Date.now();
  readonly #startedAt = Date.now();
  readonly #network = new NetworkAdapter();
  readonly #video = new Map<'video' | 'screen', ImageRateController>();
  #latencyBlocked = 0;
  // Screen content: running ratio deflate achieves, to skip trying it on content it does not suit.
  #screenDeflateRatio = NaN;
  #screenFrames = 0;
  #audioSend: AudioSendState | null = null;
  #audioReceive: AudioReceiveState | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #counts = {
    framesProcessed: 0,
    framesCompressed: 0,
    framesFallback: 0,
    framesQualityNotMet: 0,
    framesLossless: 0,
    framesDecompressed: 0,
    bytesIn: 0,
    bytesOut: 0,
    latencyBudgetExceeded: 0,
    passes: 0,
    neuralImageFrames: 0,
  };
  readonly #fallbacks: Record<FallbackReason, number> = { quality: 0, latency: 0, error: 0, model_unavailable: 0 };
  readonly #byType: Record<FrameType, number> = { video: 0, screen: 0, audio: 0, data: 0 };
  readonly #ratio = new Distribution();
  readonly #score = new Distribution();
  readonly #latency = new Distribution();

  /** @internal Use engine.openSession(). */
  constructor(host: SessionHost, options: SessionOptions = {}) {
    if (options === null || typeof options !== 'object') throw new AicError('INVALID_ARGUMENT', 'session options must be an object');
    const mode = checkMode(options.mode ?? 'adaptive', 'options.mode');
    const defaults = MODE_DEFAULTS[mode];
    const sessionId = options.sessionId ?? `session-${++generatedIds}`;
    if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 256) {
      throw new AicError('INVALID_ARGUMENT', 'options.sessionId must be a non-empty string of at most 256 characters');
    }
    const maxLatencyMs = options.maxLatencyMs ?? 20;
    if (typeof maxLatencyMs !== 'number' || Number.isNaN(maxLatencyMs) || maxLatencyMs <= 0) {
      throw new AicError('INVALID_ARGUMENT', `options.maxLatencyMs must be a positive number of milliseconds (or Infinity), got ${String(maxLatencyMs)}`);
    }
    for (const key of ['enableFallback', 'verifyQuality'] as const) {
      if (options[key] !== undefined && typeof options[key] !== 'boolean') throw new AicError('INVALID_ARGUMENT', `options.${key} must be a boolean`);
    }
    this.options = Object.freeze({
      sessionId,
      mode,
      targetCompressionRatio: checkUnit(options.targetCompressionRatio ?? defaults.targetCompressionRatio, 'options.targetCompressionRatio'),
      minQualityScore: checkUnit(options.minQualityScore ?? defaults.minQualityScore, 'options.minQualityScore'),
      maxLatencyMs,
      enableFallback: options.enableFallback ?? true,
      verifyQuality: options.verifyQuality ?? true,
    });
    this.sessionId = sessionId;
    this.#host = host;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Milliseconds since the session last compressed or decompressed a frame. */
  get idleMs(): number {
    return Date.now() - this.#lastActivity;
  }

  #checkOpen(): void {
    if (this.#closed) throw new AicError('CLOSED', `session '${this.sessionId}' is ${this.#closeReason}; open a new one with engine.openSession()`);
    this.#lastActivity = Date.now();
  }

  /** Frames of a session are coded in the order they were handed over (audio state, sequence numbers). */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(task, task);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** The mode, target, floor and quality aim in force, after network adaptation. */
  #settings(rec: NetworkRecommendation | null): { mode: CompressionMode; target: number; floor: number; aim: number } {
    const o = this.options;
    if (!rec || o.mode === 'off') return { mode: o.mode, target: o.targetCompressionRatio, floor: o.minQualityScore, aim: o.minQualityScore };
    const mode = rec.mode;
    // The network moves the mode; the caller's own floor and target are kept where they are stricter.
    const floor = mode === o.mode ? o.minQualityScore : Math.min(o.minQualityScore, MODE_DEFAULTS[mode].minQualityScore);
    const target = mode === o.mode && rec.qualityHeadroom === 0 ? Math.max(o.targetCompressionRatio, rec.targetCompressionRatio) : rec.targetCompressionRatio;
    const aim = Math.min(0.995, floor + (1 - floor) * rec.qualityHeadroom);
    return { mode, target, floor, aim };
  }

  /**
   * Compresses one frame. Always yields a payload the receiver can decode: the neural result
   * when it meets the floor, else (with enableFallback) the frame losslessly, with the reason.
   */
  compressFrame(frame: Frame, options: CompressOptions = {}): Promise<CompressResult> {
    try {
      this.#checkOpen();
      if (options === null || typeof options !== 'object') throw new AicError('INVALID_ARGUMENT', 'compressFrame() options must be an object');
      const f = checkFrame(frame);
      const network = options.network === undefined ? undefined : checkNetwork(options.network, 'options.network');
      if (options.output !== undefined) {
        if (!Buffer.isBuffer(options.output)) throw new AicError('INVALID_ARGUMENT', 'options.output must be a Buffer');
        if (options.output.length < f.bytes.length + HEADER_AND_CRC) {
          throw new AicError('OUTPUT_MISMATCH', `options.output holds ${options.output.length} bytes; give it at least ${f.bytes.length + HEADER_AND_CRC} (the frame's size + 44) so that any payload fits`);
        }
      }
      return this.#serial(() => this.#compress(f, network, options.output));
    } catch (error) {
      return Promise.reject(AicError.from(error));
    }
  }

  async #compress(f: CheckedFrame, network: NetworkConditions | undefined, output: Buffer | undefined): Promise<CompressResult> {
    if (this.#closed) throw new AicError('CLOSED', `session '${this.sessionId}' is ${this.#closeReason}`);
    const t0 = now();
    const rec = network ? this.#network.report(network, this.options.mode, Date.now()) : this.#network.current;
    const settings = this.#settings(rec);
    const sequence = this.#sequence;
    this.#sequence = (this.#sequence + 1) % 0x80000000;
    let result: CompressResult;
    if (settings.mode === 'off') {
      result = await this.#lossless(f, sequence, settings, { fallback: false, compress: false });
    } else if (f.type === 'data') {
      result = await this.#lossless(f, sequence, settings, { fallback: false, compress: true, level: 6 });
    } else if (f.type === 'audio') {
      result = await this.#compressAudio(f, sequence, settings);
    } else {
      result = await this.#compressImage(f, sequence, settings, rec);
    }
    result.timings.totalMs = now() - t0;
    if (output) {
      result.payload.copy(output);
      result.payload = output.subarray(0, result.payload.length);
    }
    this.#record(f, result);
    return result;
  }

  #base(f: CheckedFrame, sequence: number, settings: { mode: CompressionMode; target: number; floor: number }, payload: Buffer): Omit<CompressResult, 'status' | 'codec' | 'qualityLevel' | 'quality' | 'timings' | 'passes'> {
    return {
      payload,
      frameType: f.type,
      originalBytes: f.bytes.length,
      compressedBytes: payload.length,
      compressionRatio: f.bytes.length > 0 ? 1 - payload.length / f.bytes.length : 0,
      mode: settings.mode,
      targetCompressionRatio: settings.target,
      minQualityScore: settings.floor,
      sequence,
    };
  }

  /** The frame's own bytes in a deflate or stored payload. */
  async #lossless(
    f: CheckedFrame,
    sequence: number,
    settings: { mode: CompressionMode; target: number; floor: number },
    how: { fallback: boolean; compress: boolean; level?: number; reason?: FallbackReason; timings?: Partial<FrameTimings> },
  ): Promise<CompressResult> {
    const t = now();
    let format = 0;
    let dim0: number;
    let dim1: number;
    if (f.type === 'data') {
      dim0 = f.bytes.length;
      dim1 = 0;
    } else if (f.type === 'audio') {
      format = SAMPLE_FORMAT_CODE[f.format];
      dim0 = f.sampleRate;
      dim1 = (f.channels << 16) | f.samplesPerChannel;
    } else {
      format = PIXEL_FORMAT_CODE[f.format];
      dim0 = f.width;
      dim1 = f.height;
    }
    const payload = await packLossless(f.bytes, {
      frameType: f.type,
      keyframe: true,
      fallback: how.fallback,
      format,
      sequence,
      dim0,
      dim1,
      timestamp: f.timestamp ?? 0,
      compress: how.compress,
      level: how.level ?? 1,
    });
    const codec = payload[7] === 2 ? 'deflate' : 'stored';
    const spent = how.timings ?? {};
    return {
      ...this.#base(f, sequence, settings, payload),
      status: how.fallback ? 'fallback' : 'success',
      ...(how.reason ? { fallbackReason: how.reason } : {}),
      codec,
      qualityLevel: null,
      quality: f.type === 'audio' ? { score: 1, siSnrDb: 100, logMelDistanceDb: 0, verified: true } : f.type === 'data' ? { score: 1, verified: true } : { score: 1, ssim: 1, psnrDb: 100, verified: true },
      timings: { preprocessMs: spent.preprocessMs ?? 0, inferenceMs: spent.inferenceMs ?? 0, postprocessMs: (spent.postprocessMs ?? 0) + (now() - t), totalMs: 0 },
      passes: 0,
    };
  }

  #imageController(type: 'video' | 'screen', levels: number): ImageRateController {
    let c = this.#video.get(type);
    if (!c || c.levels !== levels) {
      c = new ImageRateController(levels);
      this.#video.set(type, c);
    }
    return c;
  }

  async #compressImage(
    f: Extract<CheckedFrame, { type: 'video' | 'screen' }>,
    sequence: number,
    settings: { mode: CompressionMode; target: number; floor: number; aim: number },
    rec: NetworkRecommendation | null,
  ): Promise<CompressResult> {
    const o = this.options;
    const codec = this.#host.image();
    if (!codec) return this.#lossless(f, sequence, settings, { fallback: true, compress: true, reason: 'model_unavailable' });
    const pixels = f.width * f.height;

    // Screen content (text, flat areas) is usually served best exactly: when deflate alone meets
    // the target it goes out lossless (not a fallback). Content where deflate has been falling
    // short is only re-tried every 30 frames.
    if (f.type === 'screen') {
      this.#screenFrames++;
      const worthTrying = Number.isNaN(this.#screenDeflateRatio) || this.#screenDeflateRatio >= settings.target - 0.1 || this.#screenFrames % 30 === 0;
      if (worthTrying) {
        const lossless = await this.#lossless(f, sequence, settings, { fallback: false, compress: true, level: 1 });
        this.#screenDeflateRatio = Number.isNaN(this.#screenDeflateRatio) ? lossless.compressionRatio : 0.7 * this.#screenDeflateRatio + 0.3 * lossless.compressionRatio;
        if (lossless.compressionRatio >= settings.target) return lossless;
      }
    }

    // Per-frame byte budget from the network: the frame must fit its share of the link.
    let { target } = settings;
    if (rec && f.fps) {
      const budgetBytes = (rec.maxBitrateKbps * 1000) / 8 / f.fps;
      target = Math.min(0.999, Math.max(target, 1 - budgetBytes / f.bytes.length));
    }

    const controller = this.#imageController(f.type, codec.levels);
    const predictedMs = controller.predictMs(pixels, 1);
    if (o.enableFallback && Number.isFinite(o.maxLatencyMs) && predictedMs > o.maxLatencyMs) {
      if (++this.#latencyBlocked % LATENCY_PROBE_EVERY !== 0) {
        return this.#lossless(f, sequence, { ...settings, target }, { fallback: true, compress: true, reason: 'latency' });
      }
    }
    const plan = controller.plan(settings.aim, Number.isFinite(o.maxLatencyMs) ? controller.passBudget(pixels, o.maxLatencyMs) : 3);
    const t = now();
    let search;
    try {
      search = await codec.compress(
        { data: f.bytes, width: f.width, height: f.height, format: f.format },
        {
          startLevel: plan.startLevel,
          aim: settings.aim,
          maxPasses: plan.maxPasses,
          probeDown: plan.probeDown,
          verify: o.verifyQuality,
          sequence,
          keyframe: true,
          frameType: f.type,
          timestamp: f.timestamp ?? 0,
        },
      );
    } catch (error) {
      const e = AicError.from(error);
      if (e.code === 'INVALID_ARGUMENT') throw e;
      // The network failed (or its model was closed under us): the frame still goes out.
      return this.#lossless(f, sequence, { ...settings, target }, { fallback: true, compress: true, reason: e.code === 'CLOSED' ? 'model_unavailable' : 'error' });
    }
    const wallMs = now() - t;
    const passMs = search.passes.reduce((s, p) => s + p.decodeMs + p.scoreMs, 0);
    controller.learn(search.passes, pixels, Math.max(0, wallMs - passMs));
    if (wallMs > o.maxLatencyMs) this.#counts.latencyBudgetExceeded++;
    this.#counts.passes += search.verified ? search.passes.length : 0;
    this.#counts.neuralImageFrames++;
    const timings = { ...search.timings, totalMs: 0 };
    const quality: FrameQuality = search.verified
      ? { score: search.ssim, ssim: search.ssim, psnrDb: search.psnr, verified: true }
      : { score: plan.predictedScore, verified: false };
    const floorMet = !search.verified || search.ssim >= settings.floor;
    if (!floorMet && o.enableFallback) {
      return this.#lossless(f, sequence, { ...settings, target }, { fallback: true, compress: true, reason: 'quality', timings });
    }
    return {
      ...this.#base(f, sequence, { ...settings, target }, search.payload),
      status: floorMet ? 'success' : 'quality_threshold_not_met',
      codec: 'neural-image',
      qualityLevel: search.level,
      quality,
      timings,
      passes: search.verified ? search.passes.length : 0,
    };
  }

  #audioState(codec: AudioCodec, f: Extract<CheckedFrame, { type: 'audio' }>): AudioSendState {
    const key = `${f.sampleRate}/${f.channels}/${f.format}`;
    if (this.#audioSend?.key !== key) {
      const { AudioScoreWindow: ScoreWindow } = native();
      this.#audioSend = {
        key,
        encoder: null,
        shadow: null,
        controller: new AudioRateController(codec.levels),
        window: new ScoreWindow(f.sampleRate, AUDIO_WINDOW_SECONDS, codec.delaySamples(f.sampleRate)),
        losslessRun: 0,
        lowAtTop: 0,
        restarted: false,
      };
    }
    return this.#audioSend;
  }

  /** An audio frame the receiver gets exactly: the codec streams restart after it. */
  async #audioLossless(state: AudioSendState | null, f: Extract<CheckedFrame, { type: 'audio' }>, sequence: number, settings: { mode: CompressionMode; target: number; floor: number }, reason: FallbackReason, timings?: Partial<FrameTimings>): Promise<CompressResult> {
    if (state) {
      state.restarted = state.encoder !== null || state.restarted;
      state.encoder = null;
      state.shadow = null;
      state.window.pushExact(toMono(f.bytes, f.format, f.channels));
      state.controller.holdFor(AUDIO_WINDOW_SECONDS * 50);
    }
    return this.#lossless(f, sequence, settings, { fallback: true, compress: true, reason, ...(timings ? { timings } : {}) });
  }

  async #compressAudio(f: Extract<CheckedFrame, { type: 'audio' }>, sequence: number, settings: { mode: CompressionMode; target: number; floor: number; aim: number }): Promise<CompressResult> {
    const o = this.options;
    const codec = this.#host.audio();
    if (!codec) return this.#lossless(f, sequence, settings, { fallback: true, compress: true, reason: 'model_unavailable' });
    const state = this.#audioState(codec, f);
    if (state.losslessRun > 0) {
      // Inside a lossless run (the model could not hold the floor at its top level).
      state.losslessRun--;
      return this.#audioLossless(state, f, sequence, settings, 'quality');
    }
    let payload: Buffer;
    let timings: FrameTimings;
    const level = state.controller.level;
    let measured: { score: number; siSnrDb: number; logMelDistanceDb: number; activeFraction: number } | null = null;
    try {
      state.encoder ??= codec.createEncoder(f.sampleRate, f.channels);
      state.shadow ??= codec.createDecoder();
      const encoded = await state.encoder.encode({ data: f.bytes, format: f.format }, { level, sequence, timestamp: f.timestamp ?? 0 });
      payload = encoded.payload;
      timings = { ...encoded.timings, totalMs: 0 };
      if (o.verifyQuality) {
        // Decode exactly as the receiver will, then score the last second it has played.
        const decoded = await state.shadow.decode(payload);
        const t = now();
        const reference = toMono(f.bytes, f.format, f.channels);
        // Right after a restart the codec's first output lies under audio the receiver already
        // played exactly (lossless frames come out one codec delay earlier than neural ones).
        measured = state.restarted ? state.window.pushExact(reference) : state.window.push(reference, toMono(decoded.data, f.format, f.channels));
        state.restarted = false;
        timings.inferenceMs += decoded.timings.inferenceMs;
        timings.postprocessMs += decoded.timings.preprocessMs + decoded.timings.postprocessMs + (now() - t);
      }
    } catch (error) {
      const e = AicError.from(error);
      if (e.code === 'INVALID_ARGUMENT') throw e;
      return this.#audioLossless(state, f, sequence, settings, e.code === 'CLOSED' ? 'model_unavailable' : 'error');
    }
    const quality: FrameQuality = measured
      ? { score: measured.score, siSnrDb: measured.siSnrDb, logMelDistanceDb: measured.logMelDistanceDb, verified: true }
      : { score: state.controller.score.known ? state.controller.score.value : NaN, verified: false };
    if (measured) {
      state.controller.learn(measured.score, settings.aim, measured.activeFraction);
      if (measured.score < settings.floor && o.enableFallback) {
        // Under the floor: this frame goes out exactly. When the level was already the top one
        // twice running, the content needs more than the model has: stay lossless for a while.
        state.lowAtTop = level === codec.levels - 1 ? state.lowAtTop + 1 : 0;
        if (state.lowAtTop >= 2) {
          state.losslessRun = AUDIO_LOSSLESS_RUN;
          state.lowAtTop = 0;
        }
        return this.#audioLossless(state, f, sequence, settings, 'quality', timings);
      }
    }
    return {
      ...this.#base(f, sequence, settings, payload),
      status: measured && measured.score < settings.floor ? 'quality_threshold_not_met' : 'success',
      codec: 'neural-audio',
      qualityLevel: level,
      quality,
      timings,
      passes: measured ? 1 : 0,
    };
  }

  #record(f: CheckedFrame, r: CompressResult): void {
    const c = this.#counts;
    c.framesProcessed++;
    this.#byType[f.type]++;
    c.bytesIn += r.originalBytes;
    c.bytesOut += r.compressedBytes;
    if (r.status === 'fallback') {
      c.framesFallback++;
      this.#fallbacks[r.fallbackReason!]++;
    } else if (r.status === 'quality_threshold_not_met') {
      c.framesQualityNotMet++;
    } else if (r.codec === 'neural-image' || r.codec === 'neural-audio') {
      c.framesCompressed++;
    }
    if (r.codec === 'deflate' || r.codec === 'stored') c.framesLossless++;
    this.#ratio.add(r.compressionRatio);
    this.#score.add(r.quality.score);
    this.#latency.add(r.timings.totalMs);
  }

  /** Decodes a payload of this stream: neural frames with the session's decoder state, lossless frames exactly. */
  decompressFrame(payload: ArrayBufferView, options: DecompressOptions = {}): Promise<DecompressedFrame> {
    try {
      this.#checkOpen();
      const bytes = checkDecompressArgs(payload, options);
      return this.#serial(async () => {
        const frame = await decodePayload(bytes, this.#host, options.output, (header) => this.#receiver(header));
        this.#counts.framesDecompressed++;
        return frame;
      });
    } catch (error) {
      return Promise.reject(AicError.from(error));
    }
  }

  /** The decoder for neural audio payloads of a stream format; reset after lossless payloads. */
  #receiver(header: { codec: PayloadCodec; dim0: number; dim1: number; format: number; frameType: FrameType }): AudioDecoder | null {
    const codec = this.#host.audio();
    if (header.frameType !== 'audio') return null;
    const key = `${header.dim0}/${header.dim1 >>> 16}/${header.format}`;
    const neural = header.codec === 'neural-audio';
    const r = this.#audioReceive;
    if (!neural) {
      if (r) r.lastNeural = false;
      return null;
    }
    if (!codec) return null;
    if (!r || r.key !== key || !r.lastNeural) {
      this.#audioReceive = { key, decoder: codec.createDecoder(), lastNeural: true };
    }
    return this.#audioReceive!.decoder;
  }

  /** Audio receivers: a frame made up for a payload that never arrived (keeps the stream's timing). */
  concealFrame(): Promise<DecompressedFrame> {
    try {
      this.#checkOpen();
      const r = this.#audioReceive;
      if (!r || !r.lastNeural) throw new AicError('INVALID_ARGUMENT', 'concealFrame() needs a neural audio payload decoded before it');
      return this.#serial(async () => {
        const t = now();
        const d = await r.decoder.conceal();
        return {
          type: 'audio',
          format: d.format,
          data: d.data,
          sampleRate: d.sampleRate,
          channels: d.channels,
          timestamp: d.header.timestamp,
          sequence: d.header.sequence,
          keyframe: false,
          fallback: false,
          codec: 'neural-audio',
          qualityLevel: d.header.qualityLevel,
          concealed: true,
          offsetSamples: -(this.#host.audio()?.delaySamples(d.sampleRate) ?? 0),
          timings: { totalMs: now() - t },
        } satisfies DecompressedFrame;
      });
    } catch (error) {
      return Promise.reject(AicError.from(error));
    }
  }

  /** Recommended ratio, predicted quality and latency for a frame like `meta`, from this session's history. */
  getCompressionHints(meta: FrameMeta, network?: NetworkConditions): CompressionHints {
    this.#checkOpen();
    if (meta === null || typeof meta !== 'object') throw new AicError('INVALID_ARGUMENT', 'getCompressionHints() takes frame metadata { type, width, height, ... }');
    if (!['video', 'screen', 'audio', 'data'].includes(meta.type)) throw new AicError('INVALID_ARGUMENT', `meta.type must be video, screen, audio or data, got ${JSON.stringify(meta.type)}`);
    let analysis = this.#network.analysis;
    let rec = this.#network.current;
    if (network !== undefined) {
      // A look-ahead: the session's recent reports plus this one, without changing its state.
      const preview = this.#network.preview(checkNetwork(network), this.options.mode, Date.now());
      rec = preview?.recommendation ?? rec;
      analysis = preview ?? analysis;
    }
    const s = this.#settings(rec);
    let predictedLevel: number | null = null;
    let predictedScore = NaN;
    let predictedRatio = NaN;
    let predictedLatency = NaN;
    let confidence = 0;
    if (meta.type === 'video' || meta.type === 'screen') {
      const c = this.#video.get(meta.type);
      const w = meta.width ?? 0;
      const h = meta.height ?? 0;
      if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1) throw new AicError('INVALID_ARGUMENT', 'video and screen hints need meta.width and meta.height');
      const format = (meta.format ?? 'rgb24') as PixelFormat;
      if (!['rgb24', 'rgba', 'i420'].includes(format)) throw new AicError('INVALID_ARGUMENT', `meta.format must be rgb24, rgba or i420, got ${String(meta.format)}`);
      if (c && c.framesSeen > 0) {
        predictedLevel = c.levelFor(s.aim);
        predictedScore = c.predictScore(predictedLevel);
        const bpp = c.predictBpp(predictedLevel);
        predictedRatio = 1 - (bpp * w * h) / 8 / imageBytes(format, w, h);
        predictedLatency = c.predictMs(w * h, Math.max(1, c.passesPerFrame.value || 1));
        confidence = c.framesSeen / (c.framesSeen + 5);
      }
    } else if (meta.type === 'audio') {
      const a = this.#audioSend;
      const rate = meta.sampleRate ?? 16000;
      const channels = meta.channels ?? 1;
      if (a) {
        predictedLevel = a.controller.level;
        predictedScore = a.controller.score.value;
        const ratios = this.#ratio.summary();
        predictedRatio = ratios.p50;
        predictedLatency = this.#latency.summary().p50;
        confidence = this.#byType.audio / (this.#byType.audio + 25);
      } else {
        predictedRatio = 1 - 80 / audioBytes((meta.format as AudioSampleFormat) ?? 's16le', channels, rate / 50);
      }
    } else {
      predictedScore = 1;
      predictedRatio = this.#byType.data > 0 ? this.#ratio.summary().p50 : NaN;
      confidence = this.#byType.data / (this.#byType.data + 5);
    }
    return {
      recommendedMode: s.mode,
      recommendedCompressionRatio: s.target,
      predictedCompressionRatio: predictedRatio,
      predictedQualityScore: predictedScore,
      predictedLatencyMs: predictedLatency,
      predictedLevel,
      confidence,
      network: analysis,
    };
  }

  /** The network analysis of the conditions reported with this session's frames (null before any). */
  networkAnalysis(): NetworkAnalysis | null {
    return this.#network.analysis;
  }

  stats(): SessionStats {
    const c = this.#counts;
    return {
      sessionId: this.sessionId,
      mode: this.#network.current?.mode ?? this.options.mode,
      closed: this.#closed,
      framesProcessed: c.framesProcessed,
      framesCompressed: c.framesCompressed,
      framesFallback: c.framesFallback,
      framesQualityNotMet: c.framesQualityNotMet,
      framesLossless: c.framesLossless,
      fallbacks: { ...this.#fallbacks },
      framesByType: { ...this.#byType },
      framesDecompressed: c.framesDecompressed,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      bandwidthSavedBytes: c.bytesIn - c.bytesOut,
      modeChanges: this.#network.modeChanges,
      latencyBudgetExceeded: c.latencyBudgetExceeded,
      compressionRatio: this.#ratio.summary(),
      qualityScore: this.#score.summary(),
      latencyMs: this.#latency.summary(),
      passesPerFrame: c.neuralImageFrames > 0 ? c.passes / c.neuralImageFrames : 0,
      startedAt: this.#startedAt,
      lastActivityAt: this.#lastActivity,
    };
  }

  /** Frees the session's codec state. Frames already handed over finish first; later calls throw CLOSED. */
  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#audioSend = null;
    this.#audioReceive = null;
    this.#video.clear();
    this.#host.released(this);
  }
}

/** The payload as a Buffer view, after checking decompressFrame()'s arguments. */
export function checkDecompressArgs(payload: unknown, options: unknown): Buffer {
  if (!ArrayBuffer.isView(payload)) throw new AicError('INVALID_ARGUMENT', 'decompressFrame() takes the payload as a Buffer or TypedArray');
  if (options === null || typeof options !== 'object') throw new AicError('INVALID_ARGUMENT', 'decompressFrame() options must be an object');
  const output = (options as DecompressOptions).output;
  if (output !== undefined && !Buffer.isBuffer(output)) throw new AicError('INVALID_ARGUMENT', 'options.output must be a Buffer');
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/**
 * Decodes any payload. `receiver` supplies the audio decoder state for neural audio (a session's,
 * or a fresh one for a sessionless decode).
 */
export async function decodePayload(
  bytes: Buffer,
  host: Pick<SessionHost, 'image' | 'audio' | 'imageUnavailable' | 'audioUnavailable'>,
  output: Buffer | undefined,
  receiver: (header: { codec: PayloadCodec; dim0: number; dim1: number; format: number; frameType: FrameType }) => AudioDecoder | null,
): Promise<DecompressedFrame> {
  const t = now();
  let h;
  try {
    h = native().parsePayloadHeader(bytes);
  } catch (error) {
    throw AicError.from(error);
  }
  const base = { timestamp: h.timestamp, sequence: h.sequence, keyframe: h.keyframe, fallback: h.fallback };
  const corrupt = (what: string) => new AicError('CORRUPT_PAYLOAD', `payload header ${what}; the payload is corrupt`);
  const decoder = receiver(h);
  if (h.codec === 'deflate' || h.codec === 'stored') {
    let expected: number;
    let extra: Partial<DecompressedFrame>;
    let format: DecompressedFrame['format'];
    if (h.frameType === 'data') {
      expected = h.dim0;
      format = 'bytes';
      extra = {};
    } else if (h.frameType === 'audio') {
      const channels = h.dim1 >>> 16;
      const samples = h.dim1 & 0xffff;
      const f = h.format === 1 ? 'f32le' : h.format === 0 ? 's16le' : null;
      if (!f || (channels !== 1 && channels !== 2) || !AUDIO_RATES.includes(h.dim0) || samples !== h.dim0 / 50) throw corrupt('describes impossible audio');
      expected = audioBytes(f, channels, samples);
      format = f;
      extra = { sampleRate: h.dim0, channels };
    } else {
      const f = (['rgb24', 'rgba', 'i420'] as const)[h.format];
      if (!f || h.dim0 < 1 || h.dim1 < 1 || h.dim0 > 16384 || h.dim1 > 16384) throw corrupt('describes an impossible image');
      expected = imageBytes(f, h.dim0, h.dim1);
      format = f;
      extra = { width: h.dim0, height: h.dim1 };
    }
    if (expected > 256 * 1024 * 1024) throw corrupt('describes a frame over 256 MiB');
    const data = await unpackLossless(bytes, h.codec, h.bodyOffset, h.bodyLength, expected);
    return {
      type: h.frameType,
      format,
      data: intoOutput(data, output),
      ...extra,
      ...base,
      codec: h.codec,
      qualityLevel: null,
      ...(h.frameType === 'audio' ? { offsetSamples: 0 } : {}),
      timings: { totalMs: now() - t },
    };
  }
  if (h.codec === 'neural-image') {
    const codec = host.image();
    if (!codec) throw new AicError('MODEL_MISMATCH', `this payload needs an image model and the engine has none (${host.imageUnavailable()}); load the model that coded it`);
    const d = await codec.decode(bytes, output ? { output } : undefined);
    return { type: h.frameType, format: d.format, data: d.data as Buffer, width: d.width, height: d.height, ...base, codec: 'neural-image', qualityLevel: h.qualityLevel, timings: { totalMs: now() - t } };
  }
  const codec = host.audio();
  if (!codec || !decoder) throw new AicError('MODEL_MISMATCH', `this payload needs an audio model and the engine has none (${host.audioUnavailable()}); load the model that coded it`);
  // The decoder checks the model id (or a short header's tag) before touching its state.
  const d = await decoder.decode(bytes);
  return {
    type: 'audio',
    format: d.format,
    data: intoOutput(d.data, output),
    sampleRate: d.sampleRate,
    channels: d.channels,
    ...base,
    // The decoder stream restores what a short header leaves out.
    timestamp: d.header.timestamp,
    sequence: d.header.sequence,
    codec: 'neural-audio',
    qualityLevel: h.qualityLevel,
    concealed: false,
    offsetSamples: -codec.delaySamples(d.sampleRate),
    timings: { totalMs: now() - t },
  };
}

function intoOutput(data: Buffer, output: Buffer | undefined): Buffer {
  if (!output) return data;
  if (output.length !== data.length) throw new AicError('OUTPUT_MISMATCH', `options.output holds ${output.length} bytes; this frame is ${data.length}`);
  data.copy(output);
  return output;
}
