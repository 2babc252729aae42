// Types of the native module (native/binding/*.cc), exactly as it behaves. Loaded by src/native.ts
// through node-gyp-build. Every function here throws, or rejects with, an Error carrying a string
// `code` (see NativeErrorCode); the TypeScript API turns those into AicError.

export type NativeErrorCode =
  | 'INVALID_ARGUMENT'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'MODEL_SIGNATURE_MISMATCH'
  | 'PROVIDER_UNAVAILABLE'
  | 'CLOSED'
  | 'INFERENCE_FAILED'
  | 'OUTPUT_MISMATCH'
  | 'CORRUPT_PAYLOAD'
  | 'UNSUPPORTED_VERSION'
  | 'MODEL_MISMATCH'
  | 'OUT_OF_MEMORY'
  | 'INTERNAL';

export type NativeElementType = 'float32' | 'float16' | 'uint8' | 'int8' | 'uint16' | 'int16' | 'int32' | 'int64';

export interface NativeEngineOptions {
  /** Threads of the process-wide intra-op pool; 0 or absent = one per core, at most 8. */
  intraOpThreads?: number;
  /** Threads of the inter-op pool, 1..256 (default 1). */
  interOpThreads?: number;
  /** Let idle pool threads spin (default false: bursty real-time traffic). */
  allowSpinning?: boolean;
  graphOptimization?: 'disabled' | 'basic' | 'extended' | 'all';
  executionProvider?: 'cpu' | 'cuda' | 'auto';
  /** With executionProvider 'cuda': fail with PROVIDER_UNAVAILABLE instead of falling back. */
  strictProvider?: boolean;
  cudaDeviceId?: number;
  /** ONNX Runtime's log severity, 0 (verbose) .. 4 (fatal); default 4 (failures reach you as errors anyway). */
  logSeverity?: number;
}

export interface NativeTensorSpec {
  name: string;
  type: NativeElementType;
  /** Omit to accept any rank. */
  rank?: number;
}

export interface NativeGraphSignature {
  inputs: NativeTensorSpec[];
  outputs: NativeTensorSpec[];
}

export interface NativeModelRequest {
  name: string;
  /** A file path, or the model's bytes (borrowed, not copied, while the load runs). */
  encoder: string | ArrayBufferView;
  decoder: string | ArrayBufferView;
  signature?: { encoder?: NativeGraphSignature; decoder?: NativeGraphSignature };
  /** Both graphs run on their callers' threads only, without the engine's intra-op pool. */
  callingThreadOnly?: boolean;
}

export interface NativeTensor {
  /** Read (inputs) or written (outputs) in place; must stay untouched while a call is in flight. */
  data: ArrayBufferView;
  type: NativeElementType;
  shape: number[];
}

export interface NativeTensorResult<D extends ArrayBufferView = ArrayBufferView> {
  type: NativeElementType;
  shape: number[];
  /** The caller's own output object when one was given for this name, else a Buffer over ONNX Runtime's memory. */
  data: D;
}

export interface NativeTensorInfo {
  name: string;
  /** An element type name; for types aic cannot exchange, a description such as 'float64'. */
  type: string;
  /** -1 marks a dynamic dimension. */
  shape: number[];
}

export interface NativeGraphInfo {
  provider: 'CPUExecutionProvider' | 'CUDAExecutionProvider';
  fallbackReason: string | null;
  inputs: NativeTensorInfo[];
  outputs: NativeTensorInfo[];
  /**
   * The engine's optimised-graph cache (docs/native-core.md, "Engine start"): 'cache' when the
   * session was created from the cached optimised graph, 'saved' when the graph was optimised now
   * and written for the cache, null when no cache was involved.
   */
  optimizedGraph: 'cache' | 'saved' | null;
}

/** Per graph: a cached optimised graph (read and verified by the caller), and/or where ONNX Runtime writes the one it optimises. */
export interface NativeGraphCache {
  /** required: the source is a path the caller did not read; never load it, fail with "optimised-graph cache miss" instead. */
  encoder?: { optimized?: Uint8Array; saveTo?: string; required?: boolean };
  decoder?: { optimized?: Uint8Array; saveTo?: string; required?: boolean };
}

export interface NativeModelInfo {
  name: string;
  encoder: NativeGraphInfo;
  decoder: NativeGraphInfo;
}

export interface NativeModelStats {
  encoderRuns: number;
  decoderRuns: number;
  /** Bytes of misaligned input views copied into aligned memory before a run. */
  inputBytesCopied: number;
  /** Bytes copied into misaligned caller-provided output buffers after a run. */
  outputBytesCopied: number;
}

export interface NativeEngineInfo {
  ortVersion: string;
  ortApiVersion: number;
  availableProviders: string[];
  requestedProvider: 'cpu' | 'cuda' | 'auto';
  strictProvider: boolean;
  intraOpThreads: number;
  interOpThreads: number;
  allowSpinning: boolean;
  graphOptimization: 'disabled' | 'basic' | 'extended' | 'all';
  closed: boolean;
}

export declare class Model {
  private constructor();
  run(part: 'encoder' | 'decoder', inputs: Record<string, NativeTensor>, outputs?: Record<string, NativeTensor> | null): Promise<Record<string, NativeTensorResult>>;
  runSync(part: 'encoder' | 'decoder', inputs: Record<string, NativeTensor>, outputs?: Record<string, NativeTensor> | null): Record<string, NativeTensorResult>;
  info(): NativeModelInfo;
  stats(): NativeModelStats;
  close(): void;
  readonly closed: boolean;
}

export declare class Engine {
  constructor(options?: NativeEngineOptions);
  info(): NativeEngineInfo;
  loadModel(request: NativeModelRequest, graphCache?: NativeGraphCache): Promise<Model>;
  loadModelSync(request: NativeModelRequest, graphCache?: NativeGraphCache): Model;
  close(): void;
}

export interface NativeTimings {
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  totalMs: number;
}

export interface NativePayloadHeader {
  version: number;
  frameType: 'video' | 'audio' | 'screen' | 'data';
  codec: 'neural-image' | 'neural-audio' | 'deflate' | 'stored' | 'webp' | 'jpeg' | 'opus' | 'predicted';
  keyframe: boolean;
  fallback: boolean;
  qualityLevel: number;
  format: number;
  modelId: number;
  sequence: number;
  dim0: number;
  dim1: number;
  timestamp: number;
  /**
   * The short audio form (docs/bitstream.md): `sequence` and `timestamp` hold only their low 16
   * and 32 bits (a decoder stream restores the rest), `modelId` is 0 and `modelTag` identifies the
   * model; its CRC is checked by the decoder, which knows the model id it covers.
   * The compact predicted form (version 3) too: there `sequence`, `timestamp`, `dim0` and `dim1`
   * are 0, because they follow from the reference the receiving session holds (its decode reports
   * them), and the check covers the model id and the reference's check.
   */
  shortForm?: boolean;
  modelTag?: number;
}

export interface NativeImageCodecConfig {
  name: string;
  version: string;
  latentChannels: number;
  downsample: number;
  paddingMultiple: number;
  levels: number;
  contexts: number;
  /** levels x latentChannels, level-major. */
  gains: Float32Array;
  inverseGains: Float32Array;
  /** One per level, within [0, 0.5]: q = sign(v) floor(|v| + offset). */
  roundingOffsets: Float32Array;
  encoderInput: string;
  encoderOutput: string;
  decoderInput: string;
  decoderOutput: string;
  /** One entry per table (levels x latentChannels x contexts, level-major). */
  tableOffsets: Int32Array;
  /** Number of CDF entries of each table (symbols + 1). */
  tableLengths: Uint32Array;
  /** All tables' CDF entries, concatenated. */
  cdfs: Uint32Array;
  /** Per latent channel: 1 = coded as a median-prediction residual (docs/model-contract.md). */
  predictedChannels: Uint8Array;
  /** Tables already built by ImageCodec.prepareTables() from this config; the arrays above are then not read again. */
  entropyTables?: EntropyTables;
}

export type NativePixelFormat = 'rgb24' | 'rgba' | 'i420';

export interface NativeImageFrame {
  /** rgb24/rgba: interleaved rows; i420: the Y plane, then U and V at ceil(w/2) x ceil(h/2), BT.601 limited range. */
  data: ArrayBufferView;
  width: number;
  height: number;
  format: NativePixelFormat;
}

export interface NativeImageEncodeOptions {
  level: number;
  sequence?: number;
  keyframe?: boolean;
  frameType?: 'video' | 'screen';
  /** Microseconds. */
  timestamp?: number;
}

export interface NativeImageEncodeResult {
  payload: Buffer;
  timings: NativeTimings;
}

export interface NativeImageSearchOptions {
  /** Level of the first pass (the rate controller's prediction). */
  startLevel: number;
  /** The score (SSIM) a level must reach; the search wants the lowest level that does. */
  aim: number;
  /** The worst 64-px tile's SSIM a level must also reach (default 0: not checked). */
  tileAim?: number;
  /** Decode-and-score passes allowed. */
  maxPasses: number;
  /** When the start level reaches the aim, also try the level below (if passes remain). */
  probeDown?: boolean;
  /** The link's share for this frame in bytes (0 or absent: no limit): the highest level that fits is sent when the one reaching the aim does not. */
  maxBytes?: number;
  /** Ignore startLevel: bisect the levels for the lowest that reaches the aim (at most ceil(log2(levels)) + 1 passes). */
  bisect?: boolean;
  /** With bisect: startLevel is a prior's prediction, bracketed first (two passes when it is right). */
  hinted?: boolean;
  /** False: open loop, code startLevel and measure nothing. Default true. */
  verify?: boolean;
  sequence?: number;
  keyframe?: boolean;
  frameType?: 'video' | 'screen';
  timestamp?: number;
}

export interface NativeImageSearchPass {
  level: number;
  bytes: number;
  ssim: number;
  psnr: number;
  /** The lowest SSIM of any 64-px tile (native/core/image/metrics.h). */
  worstTileSsim: number;
  decodeMs: number;
  scoreMs: number;
}

export interface NativeImageSearchResult {
  payload: Buffer;
  level: number;
  verified: boolean;
  /** The chosen level's measured SSIM reaches the aim. */
  aimMet: boolean;
  ssim: number;
  psnr: number;
  worstTileSsim: number;
  passes: NativeImageSearchPass[];
  timings: NativeTimings;
}

export interface NativeImageDecodeResult<D extends ArrayBufferView = ArrayBufferView> {
  /** The caller's output object when one was given, else a new Buffer. */
  data: D;
  width: number;
  height: number;
  format: NativePixelFormat;
  header: NativePayloadHeader;
  timings: NativeTimings;
}

/** The inter model's data (models/aic-inter-v1, src/inter-codec.ts packs it). */
export interface NativeInterModelConfig {
  name: string;
  version: string;
  /** Per channel Y, Co, Cg: the 8x8 vertical and horizontal transforms, round(m * 4096), row-major. */
  vertical: Int32Array;
  horizontal: Int32Array;
  /** Per channel: scan index -> natural coefficient index. */
  scan: Uint8Array;
  keyframeWeights: Int16Array;
  keyframeBias: Int32Array;
  keyframeGains: Int32Array;
  levels: number;
  coefficients: number;
  block: number;
}

export declare class InterModel {
  constructor(config: NativeInterModelConfig);
  readonly modelId: number;
}

export interface NativeInterFrame {
  data: ArrayBufferView;
  width: number;
  height: number;
  /** i420: converted to R, G, B for coding and scored as I420 (bitstream version 4). */
  format: 'rgb24' | 'rgba' | 'i420';
}

export interface NativePredictedEncodeOptions {
  qp: number;
  sequence: number;
  timestamp?: number;
  frameType?: 'video' | 'screen';
  /** Score each pass's reconstruction (default true). */
  score?: boolean;
  aim?: number;
  tileAim?: number;
  maxPasses?: number;
  maxBytes?: number;
  minQp?: number;
  maxQp?: number;
  /** Recovery: code against the held reference of this sequence number (current or kept) instead of the current one. */
  reference?: number;
  /** Write the compact predicted form (bitstream version 3) when the frame can take it (default false). */
  compact?: boolean;
  /** Macroblock decimation thresholds [luma, chroma] (0: off; default the tuned ones, inter_codec.h). */
  decimation?: [number, number];
  /** Rate-distortion decisions' lambda factor (0: off; default inter_codec.h's kDefaultRdLambda). */
  rdLambda?: number;
  /** The inter quantiser's deadzone (default inter_codec.h's kDefaultInterDeadzone). */
  interDeadzone?: number;
  /** The motion search's vector weight as a factor of the luma step (0: the fixed default; inter_codec.h). */
  motionLambda?: number;
}

export interface NativePredictedPass {
  qp: number;
  bytes: number;
  ssim: number;
  psnr: number;
  worstTileSsim: number;
  ms: number;
}

export interface NativePredictedEncodeResult {
  payload: Buffer;
  qp: number;
  scored: boolean;
  ssim: number;
  psnr: number;
  worstTileSsim: number;
  skipped: number;
  inter: number;
  intra: number;
  passes: NativePredictedPass[];
  timings: NativeTimings;
}

export declare class InterStream {
  constructor(model: InterModel, image: ImageCodec);
  adoptKeyframe(payload: ArrayBufferView): void;
  reset(): void;
  hasReference(width: number, height: number): boolean;
  readonly referenceSequence: number;
  encode(frame: NativeInterFrame, options: NativePredictedEncodeOptions): Promise<NativePredictedEncodeResult>;
  commit(): void;
  /** A sender keeps this many earlier references (0..64) for recovery. */
  keepReferences(count: number): void;
  holdsReference(sequence: number, width: number, height: number): boolean;
  /** The sequence number of the reference held (or of the keyframe waiting to become it); null when none. */
  readonly heldReference: number | null;
  /** The held reference's size, or null: a compact predicted frame (version 3) decodes to it. */
  readonly referenceSize: { width: number; height: number } | null;
  decode(payload: ArrayBufferView, output?: ArrayBufferView | null): Promise<NativeImageDecodeResult>;
  memoryBytes(): number;
}

/** A codec's entropy tables, checked and prepared for the encoder on a worker thread; opaque. */
export declare class EntropyTables {
  private constructor();
}

export declare class ImageCodec {
  constructor(model: Model, config: NativeImageCodecConfig);
  /** Builds the config's entropy tables on a worker thread, for `config.entropyTables` (the constructor then skips that work). */
  static prepareTables(config: NativeImageCodecConfig): Promise<EntropyTables>;
  encode(frame: NativeImageFrame, options: NativeImageEncodeOptions): Promise<NativeImageEncodeResult>;
  encodeSync(frame: NativeImageFrame, options: NativeImageEncodeOptions): NativeImageEncodeResult;
  /** Closed-loop level search (native/core/image/image_search.h): one encoder run, a decode and SSIM per level tried. */
  compress(frame: NativeImageFrame, options: NativeImageSearchOptions): Promise<NativeImageSearchResult>;
  compressSync(frame: NativeImageFrame, options: NativeImageSearchOptions): NativeImageSearchResult;
  decode(payload: ArrayBufferView, output?: ArrayBufferView | null): Promise<NativeImageDecodeResult>;
  decodeSync(payload: ArrayBufferView, output?: ArrayBufferView | null): NativeImageDecodeResult;
  readonly modelId: number;
}

export interface NativeImageMetrics {
  psnr: number;
  ssim: number;
  /** The lowest SSIM of any 64-px tile (native/core/image/metrics.h). */
  worstTileSsim: number;
  msssim: number;
}

export interface NativeAudioCodecConfig {
  name: string;
  version: string;
  sampleRate: number;
  frameSamples: number;
  bins: number;
  levels: number;
  contexts: number;
  gains: Float32Array;
  inverseGains: Float32Array;
  encoderFrame: string;
  encoderState: string;
  encoderLatent: string;
  encoderNextState: string;
  decoderLatent: string;
  decoderState: string;
  decoderFrame: string;
  decoderNextState: string;
  /** Per-frame level coded after the bins (the tables then cover bins + 1 channels). */
  frameScale?: { alpha: number; reference: number; stepLog2: number; min: number; max: number };
  /** Noise fill and the parametric high band (docs/bitstream.md, "Spectral fill"); needs frameScale. */
  spectralFill?: boolean;
  /** Per coded channel, the table group it shares tables with (tables are levels x groups x contexts). */
  tableGroups?: Uint16Array;
  tableOffsets: Int32Array;
  tableLengths: Uint32Array;
  cdfs: Uint32Array;
  /** Tables already built by AudioCodec.prepareTables() from this config; the arrays above are then not read again. */
  entropyTables?: EntropyTables;
}

export interface NativeAudioFrame {
  /** 20 ms of interleaved PCM: sampleRate / 50 samples per channel. */
  data: ArrayBufferView;
  sampleRate: number;
  channels: number;
  format: 's16le' | 'f32le';
}

export interface NativeAudioDecodeResult {
  data: Buffer;
  sampleRate: number;
  channels: number;
  format: 's16le' | 'f32le';
  /** True for a frame made up by conceal(). */
  concealed: boolean;
  /** True for comfort noise: a silence descriptor decoded, or a frame concealed after one. */
  comfortNoise: boolean;
  header: NativePayloadHeader;
  timings: NativeTimings;
}

/** One sending audio frame's encode, shadow decode and score-window push (one item of AudioEncoderStream.encodeAndScoreBatch). */
export interface NativeAudioStep {
  payload: Buffer;
  timings: NativeTimings;
  decodeTimings: NativeTimings;
  measured: NativeAudioWindowMetrics;
}

/** What AudioEncoderStream.encodeAndScoreBatch() returns: flat arrays, 20 numbers per item in results (native/binding/audio_codec_wrap.cc, AudioStepBatchJob::toJs). */
export interface NativeAudioStepBatch {
  payloads: Buffer;
  results: Float64Array;
  errors: Array<Error | undefined> | null;
}

export declare class AudioEncoderStream {
  private constructor();
  /**
   * Many streams' steps (encode, shadow decode, score) in one job on one worker thread. streams: [encoder, shadow,
   * window] per item, flat; pcm: the frames' bytes; params: nine per item (byte offset, byte length,
   * sampleRate, channels, format 0 s16le / 1 f32le, level, sequence, timestamp, exact 0/1). 1 to 4096 items.
   */
  static encodeAndScoreBatch(streams: Array<AudioEncoderStream | AudioDecoderStream | AudioScoreWindow>, pcm: Uint8Array, params: Float64Array): Promise<NativeAudioStepBatch>;
  encode(frame: NativeAudioFrame, options: { level: number; sequence?: number; timestamp?: number; dtx?: boolean }): Promise<{ payload: Buffer; timings: NativeTimings }>;
  encodeSync(frame: NativeAudioFrame, options: { level: number; sequence?: number; timestamp?: number; dtx?: boolean }): { payload: Buffer; timings: NativeTimings };
}

export declare class AudioDecoderStream {
  private constructor();
  decode(payload: ArrayBufferView): Promise<NativeAudioDecodeResult>;
  decodeSync(payload: ArrayBufferView): NativeAudioDecodeResult;
  /** A frame that was lost: made up from the last decoded one. */
  conceal(): Promise<NativeAudioDecodeResult>;
  concealSync(): NativeAudioDecodeResult;
}

export declare class AudioCodec {
  constructor(model: Model, config: NativeAudioCodecConfig);
  /** Builds the config's entropy tables on a worker thread, for `config.entropyTables`. */
  static prepareTables(config: NativeAudioCodecConfig): Promise<EntropyTables>;
  createEncoder(sampleRate: number, channels: number): AudioEncoderStream;
  createDecoder(): AudioDecoderStream;
  /** Samples per channel at `sampleRate` by which decoded output trails the input (overlap + resamplers). */
  delaySamples(sampleRate: number): number;
  readonly modelId: number;
}

export interface NativeAudioMetrics {
  siSnrDb: number;
  logMelDistanceDb: number;
  /** 1 / (1 + (logMelDistanceDb / 4)^2), in [0, 1]. */
  score: number;
  /**
   * The share of audible time-frequency bins (25 ms frames, 50 Hz to Nyquist; within 60 dB of the
   * frame's loudest reference bin and over -90 dBFS) that the decoded audio leaves 30 dB or more
   * under the reference. audioMetrics(): over the clip's active frames; the score window: over
   * the foreground frames of this push (the per-frame check).
   */
  holeFraction: number;
  /**
   * Band loss: the share of the same audible bins that lie in one-third-octave bands (from 50 Hz)
   * whose decoded power, summed over their audible bins, is 30 dB or more under the reference's.
   */
  bandLoss: number;
}

export interface NativePackHeader {
  frameType: 'video' | 'audio' | 'screen' | 'data';
  codec: 'deflate' | 'stored' | 'webp' | 'jpeg' | 'opus';
  /** The codec's setting (WebP/JPEG quality 1-100, Opus kbit/s); default 0. */
  qualityLevel?: number;
  keyframe?: boolean;
  fallback?: boolean;
  format: number;
  modelId: number;
  sequence: number;
  dim0: number;
  dim1: number;
  timestamp?: number;
}

export declare const ortVersion: string;
export declare const ortApiVersion: number;

/** The audio score over the last `windowSeconds` of a stream, updated frame by frame (native/core/audio/audio_metrics.h). */
export declare class AudioScoreWindow {
  constructor(sampleRate: number, windowSeconds: number, delaySamples: number);
  /** Appends reference (input) and decoded (output) mono samples of equal count; returns the window's measures. */
  push(reference: Float32Array, decoded: Float32Array, exactPrefix?: number): NativeAudioWindowMetrics;
  /** Appends reference samples the receiver gets exactly (a lossless frame). */
  pushExact(reference: Float32Array): NativeAudioWindowMetrics;
  /** Saves the window's state; rewind() goes back to it (a trial setting leaves no trace). */
  mark(): void;
  rewind(): void;
}

export interface NativeAudioWindowMetrics extends NativeAudioMetrics {
  activeFraction: number;
  /** The per-frame check: the largest band-energy difference (dB) of this push's new audio against its input. */
  worstBandErrorDb: number;
  /** worstBandErrorDb is over its tolerance (10 dB), or holeFraction over its own (0.4): this push damaged the audio. */
  frameMiss: boolean;
  /** The hole fraction pooled over the window's foreground frames (the last second the receiver played). */
  windowHoleFraction: number;
  /** The band loss pooled over the same frames. */
  windowBandLoss: number;
  /** windowBandLoss is over its tolerance (0.2): the neural codec is not carrying the stream's band. */
  windowHoleMiss: boolean;
}

export interface NativeOpusSettings {
  /** bit/s, 6000..510000. */
  bitrate: number;
  vbr?: boolean;
  application?: 'voip' | 'audio';
}

/** One sending Opus stream (native/core/conventional/opus_codec.h): 20 ms frames. */
export declare class OpusEncoderStream {
  constructor(sampleRate: number, channels: number, application: 'voip' | 'audio');
  encode(frame: { data: ArrayBufferView; format: 's16le' | 'f32le' }, settings: NativeOpusSettings): Promise<{ packet: Buffer; ms: number }>;
  encodeSync(frame: { data: ArrayBufferView; format: 's16le' | 'f32le' }, settings: NativeOpusSettings): { packet: Buffer; ms: number };
  /**
   * One try of the session's Opus ladder in one job: encode, decode with `shadow` as the receiver
   * will (in `frame.format`), push the input and the output (mono, after `pending`, the samples the
   * shadow decoded past the last frame) into `window`, the first `exactPrefix` output samples as exact.
   */
  tryScored(frame: { data: ArrayBufferView; format: 's16le' | 'f32le' }, settings: NativeOpusSettings, shadow: OpusDecoderStream, window: AudioScoreWindow, pending: Float32Array, exactPrefix: number): Promise<{ packet: Buffer; ms: number; measured: NativeAudioWindowMetrics; pending: Float32Array }>;
  mark(): void;
  rewind(): void;
  reset(): void;
  /** Samples per channel by which the decoded stream trails the input. */
  readonly delaySamples: number;
}

/** One receiving Opus stream: each packet decodes to exactly one 20 ms frame, else CORRUPT_PAYLOAD. */
export declare class OpusDecoderStream {
  constructor(sampleRate: number, channels: number);
  decode(packet: ArrayBufferView, format: 's16le' | 'f32le'): Promise<{ data: Buffer; ms: number }>;
  decodeSync(packet: ArrayBufferView, format: 's16le' | 'f32le'): { data: Buffer; ms: number };
  /** A frame for a packet that never arrived (libopus's concealment). */
  conceal(format: 's16le' | 'f32le'): Promise<{ data: Buffer; ms: number }>;
  mark(): void;
  rewind(): void;
  reset(): void;
}

/**
 * TEST ONLY, internal: the native core's fault injector (native/core/common/faults.h). Off by default;
 * never reached from the public API. Used by bench/faults.mjs and test/faults.test.ts.
 */
export interface NativeFaultSettings {
  /** Every Nth eligible graph run throws INFERENCE_FAILED (0: off). */
  inferenceFailureEvery?: number;
  /** Every Nth eligible run sleeps `slowMs` first (default 1 when only slowMs is given). */
  slowEvery?: number;
  slowMs?: number;
  /** Every Nth eligible run throws std::bad_alloc, OUT_OF_MEMORY in JS (0: off). */
  allocFailureEvery?: number;
  /** Model loads from a path fail with MODEL_NOT_FOUND, as if the file had been deleted. */
  vanishModels?: boolean;
  /** CUDA-wanting loads go to CPU with a "provider lost" reason; runs of CUDA graphs fail INFERENCE_FAILED. */
  providerLost?: boolean;
  /** Decoder runs are eligible too (default: encoder runs only, one per frame of a sending session). */
  allGraphs?: boolean;
}

export interface NativeFaultCounts {
  eligibleRuns: number;
  inferenceFailures: number;
  slowRuns: number;
  allocFailures: number;
  vanishedModels: number;
  providerLostLoads: number;
  providerLostRuns: number;
  /** The rows (frames) of the runs an injected fault failed: an audio batch's run codes many frames. */
  failedRows: number;
  active: boolean;
}

/** TEST ONLY, internal (see NativeFaultSettings). */
export interface NativeFaults {
  readonly testOnly: true;
  /** Replaces the settings (omitted fields are off); counters are kept. */
  set(settings: NativeFaultSettings): void;
  counts(): NativeFaultCounts;
  /** Every fault off, counters and run numbering zeroed. */
  clear(): void;
}

export interface NativeBinding {
  Engine: typeof Engine;
  AudioScoreWindow: typeof AudioScoreWindow;
  AudioEncoderStream: typeof AudioEncoderStream;
  OpusEncoderStream: typeof OpusEncoderStream;
  OpusDecoderStream: typeof OpusDecoderStream;
  Model: typeof Model;
  ImageCodec: typeof ImageCodec;
  InterModel: typeof InterModel;
  InterStream: typeof InterStream;
  AudioCodec: typeof AudioCodec;
  /** Parses and checks a payload's header and CRC; throws CORRUPT_PAYLOAD / UNSUPPORTED_VERSION. */
  parsePayloadHeader(payload: ArrayBufferView): NativePayloadHeader & { bodyOffset: number; bodyLength: number };
  /** A deflate or stored payload around `body` (the lossless path). */
  packPayload(header: NativePackHeader, body: ArrayBufferView): Buffer;
  /** PSNR and SSIM of two I420 frames, Y, U and V weighted 6:1:1. */
  i420Metrics(a: ArrayBufferView, b: ArrayBufferView, width: number, height: number): { psnr: number; ssim: number; worstTileSsim: number };
  /** PSNR, SSIM and MS-SSIM of two interleaved 8-bit RGB (3) or RGBA (4) images. */
  imageMetrics(a: ArrayBufferView, b: ArrayBufferView, width: number, height: number, channels: 3 | 4): NativeImageMetrics;
  /** PSNR, SSIM and the worst 64-px tile's SSIM of a reconstruction, off the JS thread (native/core/image/metrics.h). */
  scoreFrame(a: ArrayBufferView, b: ArrayBufferView, width: number, height: number, format: NativePixelFormat): Promise<{ psnr: number; ssim: number; worstTileSsim: number }>;
  /** A frame in another pixel format, off the JS thread (I420: BT.601 limited range; to rgba: alpha 255). */
  convertFrame(frame: ArrayBufferView, width: number, height: number, from: NativePixelFormat, to: NativePixelFormat): Promise<Buffer>;
  /** SI-SNR, log-mel distance and the audio score of mono float signals (native/core/audio/audio_metrics.h). */
  audioMetrics(reference: Float32Array, decoded: Float32Array, sampleRate: number): NativeAudioMetrics;
  /**
   * Reads a whole file on a libuv worker thread into native memory lent as a Buffer; a model load
   * given it (or a view into it) shares that memory instead of copying it. Treat it as read-only.
   */
  readFile(path: string): Promise<Buffer>;
  /** The CRC-32C of the bytes (synchronous; native/core/format/crc32c.h). */
  crc32c(bytes: ArrayBufferView): number;
  /** The ONNX Runtime version in use; reading it loads the bundled ONNX Runtime when none is loaded yet. */
  readonly ortVersion: string;
  ortApiVersion: number;
  /** The processor's features as the optimised-graph cache keys them. */
  readonly cpuSignature: string;
  /** Runs this process on the ONNX Runtime library at `path` (once per process; native/core/runtime/onnxruntime_library.h). Throws NATIVE_UNAVAILABLE. */
  loadOnnxRuntime(path: string): { path: string; version: string };
  /** Starts ONNX Runtime's one-time work (operator schemas, the CPU kernel registry) on a thread of its own, once per process (native/core/runtime/warmup.h); needs a library loaded. */
  startWarmup(): void;
  /** Waits for that warm-up to finish, if one runs. */
  awaitWarmup(): void;
  /** Internal: block motion search on 8-bit luma planes (native/core/video/motion_search.h), synchronous; for bench/motion-search.mjs. */
  motionSearch(
    reference: ArrayBufferView,
    current: ArrayBufferView,
    width: number,
    height: number,
    options?: { blockSize?: 8 | 16; range?: number; subpel?: boolean; lambda?: number; exhaustive?: boolean },
  ): { blocksX: number; blocksY: number; blockSize: number; vectors: Int16Array; sad: Uint32Array; evaluated: number };
  /** NVML's utilisation percent of GPU `index`, or null where NVML or the device is absent (native/core/runtime/gpu_utilization.h). */
  gpuUtilization(index: number): number | null;
  /** The ONNX Runtime library in use, or null before one is loaded. */
  onnxRuntime(): { path: string; version: string } | null;
  /** The ONNX Runtime library's file name on this platform (libonnxruntime.so.1, libonnxruntime.1.dylib, onnxruntime.dll). */
  onnxRuntimeFileName: string;
  /** TEST ONLY, internal: the fault injector (native/core/common/faults.h). */
  faults: NativeFaults;
}
