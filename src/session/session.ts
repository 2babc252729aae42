// Session: one media stream's state on one side of a call, and its lifecycle. compressFrame()
// validates a frame and hands it, in order, to the path of its type (image-path.ts, audio-path.ts;
// data and mode 'off' go out losslessly); decompressFrame() turns payloads back into frames (the
// far side opens its own session). docs/api.md describes the policy.
import { AicError, readFields } from '../errors.js';
import { audioBytes, checkFrame, imageBytes, withCallerOutput, type AudioSampleFormat, type CheckedFrame, type Frame, type FrameType, type PixelFormat } from '../frames.js';
import { checkMode, checkUnit, MODE_DEFAULTS, type CompressionMode } from '../modes.js';
import { checkNetwork, NetworkAdapter, type NetworkAnalysis, type NetworkConditions, type NetworkRecommendation } from '../network.js';
import { SerialQueue } from '../serial-queue.js';
import { Distribution } from '../stats.js';
import { AudioPath } from './audio-path.js';
import type { PathContext } from './context.js';
import { codedBy } from './coded-by.js';
import { checkDecompressArgs, decodePayload } from './decode.js';
import { losslessResult, now } from './fallback.js';
import { ImagePath, TILE_FLOOR_MARGIN } from './image-path.js';
import { InterPath } from './inter-path.js';
import type { Capabilities, CompressionHints, CompressOptions, CompressResult, DecompressedFrame, DecompressOptions, FallbackReason, FrameMeta, FrameSettings, PayloadCodec, ResolvedSessionOptions, SessionHost, SessionOptions, SessionStats } from './types.js';

const HEADER_AND_CRC = 44;

/** Every payload codec this version writes and reads. */
export const PAYLOAD_CODECS: readonly PayloadCodec[] = ['neural-image', 'neural-audio', 'deflate', 'stored', 'webp', 'jpeg', 'opus', 'predicted'];
/**
 * The bitstream versions this build reads and writes (docs/bitstream.md): 1 every payload but
 * predicted frames, 2 predicted frames with the full header, 3 the compact predicted form, 4
 * predicted frames of I420 streams (format 2 in the full form, compact markers 0xAA and 0xAB).
 */
export const BITSTREAM_VERSIONS: readonly number[] = [1, 2, 3, 4];

/** A peer's capabilities, checked (they arrive over the caller's signalling, so trust nothing). */
export function checkCapabilities(c: unknown, what: string): Capabilities {
  const bad = (why: string): never => {
    throw new AicError('INVALID_ARGUMENT', `${what} ${why}; pass the receiver's engine.capabilities() as it is`);
  };
  if (c === null || typeof c !== 'object') bad('must be an object { bitstreamVersions, codecs, models }');
  const x = c as Partial<Capabilities>;
  const ints = (v: unknown, name: string) => (Array.isArray(v) && v.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff) ? (v as number[]) : bad(`.${name} must be an array of unsigned 32-bit integers`));
  const versions = ints(x.bitstreamVersions, 'bitstreamVersions');
  if (!Array.isArray(x.codecs) || !x.codecs.every((k) => typeof k === 'string')) bad('.codecs must be an array of codec names');
  if (x.models === null || typeof x.models !== 'object') bad('.models must be an object { image, audio }');
  const models = x.models as Capabilities['models'];
  // A codec this version does not know is one it never sends: keep only the known ones.
  const codecs = (x.codecs as string[]).filter((k): k is PayloadCodec => (PAYLOAD_CODECS as readonly string[]).includes(k));
  // A peer that reads no version this one writes can still take nothing: everything would be refused there.
  // Predicted frames are version 2's; a peer that reads only version 1 cannot take them.
  const usable = versions.includes(1) ? codecs.filter((k) => k !== 'predicted' || versions.includes(2)) : [];
  const inter = models.inter === undefined ? [] : ints(models.inter, 'models.inter');
  return { bitstreamVersions: versions, codecs: usable, models: { image: ints(models.image, 'models.image'), audio: ints(models.audio, 'models.audio'), inter } };
}

let generatedIds = 0;

function checkKeyframeInterval(v: unknown): number {
  if (v === undefined) return 300;
  if (v !== Infinity && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) throw new AicError('INVALID_ARGUMENT', `options.keyframeInterval must be a whole number of frames >= 1 (or Infinity), got ${String(v)}`);
  return v as number;
}

function checkRecoveryReferences(v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 64) throw new AicError('INVALID_ARGUMENT', `options.recoveryReferences must be a whole number of frames from 0 to 64, got ${String(v)}`);
  return v;
}

function checkBitrate(v: unknown): number {
  if (v === undefined) return Infinity;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 1 || v > 1_000_000) throw new AicError('INVALID_ARGUMENT', `options.targetBitrateKbps must be a number of kbit/s from 1 to 1000000, got ${String(v)}`);
  return v;
}

export const SESSION_OPTION_KEYS = ['sessionId', 'mode', 'targetCompressionRatio', 'minQualityScore', 'maxLatencyMs', 'enableFallback', 'fallbackCodec', 'peerCapabilities', 'verifyQuality', 'interFrames', 'keyframeInterval', 'recoveryReferences', 'targetBitrateKbps', 'dtx'] as const;

export class Session {
  readonly sessionId: string;
  readonly options: ResolvedSessionOptions;
  readonly #host: SessionHost;
  #closed = false;
  #closeReason = '';
  #sequence = 0;
  #lastActivity = Date.now();
  readonly #startedAt = Date.now();
  readonly #network = new NetworkAdapter();
  readonly #image: ImagePath;
  readonly #inter: InterPath;
  readonly #audio: AudioPath;
  readonly #queue = new SerialQueue();
  // Frames accepted or waiting for a slot, and the chain of this session's waits for a slot.
  #pending = 0;
  #waiting: Promise<void> = Promise.resolve();
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
  constructor(host: SessionHost, given: SessionOptions = {}) {
    if (given === null || typeof given !== 'object') throw new AicError('INVALID_ARGUMENT', 'session options must be an object');
    const options = readFields(given, SESSION_OPTION_KEYS, 'options') as SessionOptions;
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
    const fallbackCodec = options.fallbackCodec ?? 'conventional';
    if (fallbackCodec !== 'conventional' && fallbackCodec !== 'lossless') {
      throw new AicError('INVALID_ARGUMENT', `options.fallbackCodec must be 'conventional' or 'lossless', got ${JSON.stringify(options.fallbackCodec)}`);
    }
    for (const key of ['enableFallback', 'verifyQuality', 'interFrames', 'dtx'] as const) {
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
      fallbackCodec,
      peerCapabilities: options.peerCapabilities === undefined ? null : checkCapabilities(options.peerCapabilities, 'options.peerCapabilities'),
      interFrames: options.interFrames ?? true,
      keyframeInterval: checkKeyframeInterval(options.keyframeInterval),
      recoveryReferences: checkRecoveryReferences(options.recoveryReferences),
      targetBitrateKbps: checkBitrate(options.targetBitrateKbps),
      dtx: options.dtx ?? false,
    });
    this.sessionId = sessionId;
    this.#host = host;
    const peer = this.options.peerCapabilities;
    const acceptedCodecs: ReadonlySet<string> = new Set(peer ? peer.codecs : PAYLOAD_CODECS);
    const ctx: PathContext = {
      host,
      options: this.options,
      counters: this.#counts,
      acceptedCodecs,
      accepts: (codec, modelId) => {
        if (!acceptedCodecs.has(codec)) return false;
        if (!peer || modelId === undefined) return true;
        return (codec === 'neural-image' ? peer.models.image : codec === 'neural-audio' ? peer.models.audio : codec === 'predicted' ? (peer.models.inter ?? []) : [modelId]).includes(modelId);
      },
      reads: (version) => !peer || peer.bitstreamVersions.includes(version),
    };
    this.#image = new ImagePath(ctx);
    this.#inter = new InterPath(ctx);
    this.#audio = new AudioPath(ctx);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Milliseconds since the session last compressed or decompressed a frame; 0 while frames handed over are still being coded. */
  get idleMs(): number {
    return this.#pending > 0 ? 0 : Date.now() - this.#lastActivity;
  }

  /** Resolves when every frame handed over so far has finished. */
  drained(): Promise<void> {
    return this.#queue.run(async () => undefined);
  }

  #checkOpen(): void {
    if (this.#closed) throw new AicError('CLOSED', `session '${this.sessionId}' is ${this.#closeReason}; open a new one with engine.openSession()`);
    this.#lastActivity = Date.now();
  }

  /**
   * Accepts a frame into the session's queue, where frames are coded in the order they were
   * handed over (audio state, sequence numbers), within the engine's bound on frames in flight.
   */
  #serial<T>(task: () => Promise<T>, whenBusy: unknown = 'reject'): Promise<T> {
    // A frame counts as pending (the session is busy, not idle) from the moment it is handed
    // over, waiting for a slot included, until it has been coded.
    this.#pending++;
    try {
      return this.#host.admission
        .admit(
          whenBusy,
          'frame',
          () => this.#queue.run(task),
          // In call order behind the other waiters of this session, so its frames keep their order.
          (acquire) => (this.#waiting = this.#waiting.then(acquire)),
        )
        .finally(() => {
          this.#pending--;
          this.#lastActivity = Date.now();
        });
    } catch (error) {
      this.#pending--;
      throw error;
    }
  }

  /** The mode, target, floor and quality aim in force, after network adaptation. */
  #settings(rec: NetworkRecommendation | null): FrameSettings {
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
   * when it meets the floor, else (with enableFallback) the next step of the fallback ladder
   * (open loop, JPEG/WebP or Opus, lossless last), with the reason.
   */
  compressFrame(frame: Frame, given: CompressOptions = {}): Promise<CompressResult> {
    try {
      this.#checkOpen();
      if (given === null || typeof given !== 'object') throw new AicError('INVALID_ARGUMENT', 'compressFrame() options must be an object');
      const options = readFields(given, ['network', 'output', 'whenBusy'], 'options') as CompressOptions;
      // The frame's bytes are copied here: the caller may reuse its buffer as soon as this returns.
      const f = checkFrame(frame);
      const network = options.network === undefined ? undefined : checkNetwork(options.network, 'options.network');
      if (options.output !== undefined) {
        if (!Buffer.isBuffer(options.output)) throw new AicError('INVALID_ARGUMENT', 'options.output must be a Buffer');
        if (options.output.length < f.bytes.length + HEADER_AND_CRC) {
          throw new AicError('OUTPUT_MISMATCH', `options.output holds ${options.output.length} bytes; give it at least ${f.bytes.length + HEADER_AND_CRC} (the frame's size + 44) so that any payload fits`);
        }
      }
      const coded = this.#serial(() => this.#compress(f, network, options.output), options.whenBusy ?? 'reject');
      return this.#host.metrics ? coded.catch(this.#host.metrics.rethrowFailure) : coded;
    } catch (error) {
      const e = AicError.from(error);
      this.#host.metrics?.failure('error', e.code);
      return Promise.reject(e);
    }
  }

  async #compress(f: CheckedFrame, network: NetworkConditions | undefined, output: Buffer | undefined): Promise<CompressResult> {
    // A frame handed over before close() still finishes (close() frees the state after it).
    const t0 = now();
    const rec = network ? this.#network.report(network, this.options.mode, Date.now()) : this.#network.current;
    const settings = this.#settings(rec);
    const sequence = this.#sequence;
    this.#sequence = (this.#sequence + 1) % 0x80000000;
    let result: CompressResult;
    if (settings.mode === 'off') {
      result = await losslessResult(f, sequence, settings, { fallback: false, compress: false });
    } else if (f.type === 'data') {
      result = await losslessResult(f, sequence, settings, { fallback: false, compress: true, level: 6 });
    } else if (f.type === 'audio') {
      result = await this.#audio.compress(f, sequence, settings, rec);
    } else {
      const budget = ImagePath.budgetBytes(f, rec);
      result = (await this.#inter.compress(f, sequence, settings, Math.max(0, settings.floor - TILE_FLOOR_MARGIN), budget)) ?? (await this.#image.compress(f, sequence, settings, rec));
    }
    // No payload is larger than the frame stored as it is (tiny frames, incompressible data).
    // Audio is left to its path, whose codec streams must know what the receiver got: it caps
    // Opus under the frame's raw rate and sends a frame exactly where a packet would be larger.
    if (f.type !== 'audio' && result.payload.length > f.bytes.length + HEADER_AND_CRC) {
      const stored = await losslessResult(f, sequence, settings, { fallback: result.status === 'fallback', compress: false, ...(result.fallbackReason ? { reason: result.fallbackReason } : {}), timings: result.timings });
      stored.status = result.status === 'quality_threshold_not_met' ? 'success' : result.status;
      // A predicted frame the receiver will not get leaves the sender's reference ahead of its own.
      if (result.codec === 'predicted') this.#inter.dropSenderReference();
      result = stored;
    }
    if ((f.type === 'video' || f.type === 'screen') && result.codec !== 'predicted') this.#inter.sentByImagePath(f, result);
    result.timings.totalMs = now() - t0;
    if (output) {
      // The caller's output may have been detached or shrunk while the frame was coded.
      if (output.length < result.payload.length) {
        throw new AicError('INVALID_ARGUMENT', `options.output holds ${output.length} bytes now, less than the ${result.payload.length}-byte payload (was its ArrayBuffer detached, transferred or resized during the call?); keep it untouched until compressFrame() settles`);
      }
      result.payload.copy(output);
      result.payload = output.subarray(0, result.payload.length);
    }
    this.#record(f, result);
    return result;
  }

  #record(f: CheckedFrame, r: CompressResult): void {
    const c = this.#counts;
    c.framesProcessed++;
    this.#byType[f.type]++;
    c.bytesIn += r.originalBytes;
    c.bytesOut += r.compressedBytes;
    // Every frame that went down the ladder counts under its reason, whether the step it went
    // out by served the floor (status 'fallback') or not ('quality_threshold_not_met').
    if (r.fallbackReason) this.#fallbacks[r.fallbackReason]++;
    if (r.status === 'fallback') {
      c.framesFallback++;
    } else if (r.status === 'quality_threshold_not_met') {
      c.framesQualityNotMet++;
    } else if (r.codec === 'neural-image' || r.codec === 'neural-audio' || r.codec === 'predicted') {
      c.framesCompressed++;
    }
    if (r.codec === 'deflate' || r.codec === 'stored') c.framesLossless++;
    this.#ratio.add(r.compressionRatio);
    this.#score.add(r.quality.score);
    this.#latency.add(r.timings.totalMs);
    this.#host.metrics?.frame(r, codedBy(r.codec, this.#host.image(), this.#host.audio()).name);
  }

  /** Decodes a payload of this stream: neural frames with the session's decoder state, lossless frames exactly. */
  decompressFrame(payload: ArrayBufferView, given: DecompressOptions = {}): Promise<DecompressedFrame> {
    try {
      this.#checkOpen();
      const { bytes, options } = checkDecompressArgs(payload, given);
      const decoded = this.#serial(async () => {
        const frame = await withCallerOutput(options.output, () => decodePayload(bytes, this.#host, options.output, (header) => this.#receiver(header), this.#inter));
        this.#counts.framesDecompressed++;
        return frame;
      }, options.whenBusy ?? 'reject');
      return this.#host.metrics ? decoded.catch(this.#host.metrics.rethrowError) : decoded;
    } catch (error) {
      const e = AicError.from(error);
      this.#host.metrics?.error(e.code);
      return Promise.reject(e);
    }
  }

  /** Decoder state for the payload's stream (neural audio, Opus); neural restarts after other payloads. */
  #receiver(header: { codec: PayloadCodec; dim0: number; dim1: number; format: number; frameType: FrameType; keyframe: boolean; sequence?: number; timestamp?: number; qualityLevel?: number }) {
    return this.#audio.receiver(header);
  }

  /**
   * Video senders: the next frame goes as a keyframe, which a receiver decodes without any frame
   * before it. Call it when the receiver reports a lost picture (RTCP PLI / FIR) or a frame it
   * refused with REFERENCE_MISSING.
   */
  requestKeyframe(): void {
    this.#checkOpen();
    this.#inter.requestKeyframe();
  }

  /**
   * Video senders: the receiver lost frames and still holds frame `sequence` (what its
   * heldReference() says): the next frame is coded against that frame when this sender still
   * keeps it (options.recoveryReferences), a predicted frame the receiver decodes at once, about
   * a tenth of a keyframe's bytes; otherwise it goes as a keyframe, as after requestKeyframe().
   */
  requestRecovery(sequence: number): void {
    this.#checkOpen();
    // A session numbers its frames 0 .. 2^31 - 1 (then wraps): anything else is no frame of it.
    if (typeof sequence !== 'number' || !Number.isInteger(sequence) || sequence < 0 || sequence > 0x7fffffff) {
      throw new AicError('INVALID_ARGUMENT', `requestRecovery(sequence): sequence must be a frame's sequence number (0..2^31-1), got ${String(sequence)}`);
    }
    this.#inter.requestRecovery(sequence);
  }

  /**
   * Video receivers: the sequence number of the frame this session holds as its reference (the
   * last video frame it decoded that predicted frames may use), or null when it holds none: what
   * a receiver that refused a frame with REFERENCE_MISSING reports for requestRecovery().
   */
  heldReference(): number | null {
    this.#checkOpen();
    return this.#inter.heldReference();
  }

  /** Audio receivers: a frame made up for a payload that never arrived (keeps the stream's timing). */
  concealFrame(): Promise<DecompressedFrame> {
    try {
      this.#checkOpen();
      if (!this.#audio.canConceal) throw new AicError('INVALID_ARGUMENT', 'concealFrame() needs a neural audio or Opus payload decoded before it');
      return this.#serial(() => this.#audio.conceal());
    } catch (error) {
      return Promise.reject(AicError.from(error));
    }
  }
  /** Recommended ratio, predicted quality and latency for a frame like `meta`, from this session's history. */
  getCompressionHints(given: FrameMeta, network?: NetworkConditions): CompressionHints {
    this.#checkOpen();
    if (given === null || typeof given !== 'object') throw new AicError('INVALID_ARGUMENT', 'getCompressionHints() takes frame metadata { type, width, height, ... }');
    // Each field read once (a throwing getter or a revoked Proxy is INVALID_ARGUMENT).
    const meta = readFields(given, ['type', 'width', 'height', 'fps', 'format', 'sampleRate', 'channels', 'bytes'], 'meta') as FrameMeta;
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
    let frameBudgetBytes: number | null = null;
    let recommendedMaxPixels: number | null = null;
    let recommendedFps: number | null = null;
    if (meta.type === 'video' || meta.type === 'screen') {
      const c = this.#image.controller(meta.type);
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
      if (meta.fps !== undefined && (typeof meta.fps !== 'number' || !(meta.fps > 0) || meta.fps > 1000)) throw new AicError('INVALID_ARGUMENT', `meta.fps must be a number of frames per second in (0, 1000], got ${String(meta.fps)}`);
      if (rec && meta.fps) {
        frameBudgetBytes = Math.floor((rec.maxBitrateKbps * 1000) / 8 / meta.fps);
        // The level that reaches the floor, predicted: does it fit? If not, what would.
        const bits = c && c.framesSeen > 0 ? c.predictBpp(c.levelFor(s.floor)) * w * h : NaN;
        if (bits > frameBudgetBytes * 8) {
          recommendedMaxPixels = Math.floor((w * h * frameBudgetBytes * 8) / bits);
          recommendedFps = Math.max(1, Math.floor((rec.maxBitrateKbps * 1000) / bits));
        }
      }
    } else if (meta.type === 'audio') {
      const controller = this.#audio.controller;
      const rate = meta.sampleRate ?? 16000;
      const channels = meta.channels ?? 1;
      if (controller) {
        predictedLevel = controller.level;
        predictedScore = controller.score.value;
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
      frameBudgetBytes,
      recommendedMaxPixels,
      recommendedFps,
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
      video: { ...this.#inter.counters, referenceBytes: this.#inter.memoryBytes() },
      startedAt: this.#startedAt,
      lastActivityAt: this.#lastActivity,
    };
  }

  /** Frees the session's codec state. Frames already handed over finish first; later calls throw CLOSED. */
  close(reason = 'closed'): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    this.#host.released(this);
    // After the frames already queued: they still need the codec state.
    void this.#queue.run(async () => {
      this.#audio.clear();
      this.#image.clear();
      this.#inter.clear();
    });
  }
}
