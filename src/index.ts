// @auralink/aic: neural media compression for Node.js servers.
// First: the addon, so that ONNX Runtime's one-time start runs while the rest loads (native/preload.ts).
import './native/preload.js';
export { AicError, type AicErrorCode } from './errors.js';
export { createEngine, DEFAULT_AUDIO_MODEL, DEFAULT_IMAGE_MODEL, Engine, type CodecSummary, type DecodeLimits, type LargeDecodeOptions, type OpenSessionOptions, type EngineOptions, type EngineInfo, type ExecutionProvider, type ModelDefinition } from './engine.js';
export { Model, type ModelInfo, type ModelStats, type RunOptions, type RunResult } from './model.js';
export { tensor, asFloat32, type ElementType, type Tensor, type TensorMap, type TensorResult } from './tensor.js';
export { ImageCodec, type DecodedImage, type ImageDecodeOptions, type ImageEncodeOptions, type ImageEncodeResult, type ImageFrame, type ImageSearchOptions, type ImageSearchResult } from './image-codec.js';
export { loadAudioManifest, loadImageManifest, validateAudioManifest, validateImageManifest, type AudioManifest, type ImageManifest } from './manifest.js';
export { AudioCodec, AudioDecoder, AudioEncoder, SUPPORTED_AUDIO_RATES, type AudioFrameInput, type AudioEncodeOptions, type DecodedAudio, type SampleFormat } from './audio-codec.js';
export { audioQuality, imageQuality, parsePayloadHeader, type AudioQuality, type ImageQuality, type PayloadHeader } from './quality.js';
export {
  Session,
  type Capabilities,
  type CompressionHints,
  type CompressOptions,
  type CompressResult,
  type CompressStatus,
  type DecompressedFrame,
  type DecompressOptions,
  type FallbackReason,
  type FrameMeta,
  type FrameQuality,
  type FrameReduction,
  type FrameTimings,
  type PayloadCodec,
  type SessionOptions,
  type SessionStats,
} from './session/index.js';
export { MODE_DEFAULTS, MODES, type CompressionMode } from './modes.js';
export { analyzeNetworkConditions, type NetworkAnalysis, type NetworkConditions, type NetworkQuality, type NetworkRecommendation } from './network.js';
export { MAX_DATA_BYTES, MAX_DIMENSION, MAX_PIXELS, type AudioFrame, type AudioSampleFormat, type DataFrame, type Frame, type FrameType, type PixelFormat, type VideoFrame } from './frames.js';
export type { DistributionSummary } from './stats.js';
export { AicMetrics, type MetricsOptions } from './metrics/prometheus.js';
export { METRIC_NAMES, METRICS, type MetricSpec } from './metrics/names.js';
export { LATENCY_BUCKETS_MS, QUALITY_BUCKETS, RATIO_BUCKETS, REQUEST_STATUSES, type RequestStatus } from './metrics/recorder.js';
export type { NativeOrigin } from './native/load.js';
export type { OnnxRuntimeInfo } from './native/onnxruntime.js';
export {
  CONFIG_VARIABLES,
  clientTransport,
  executionProviderFor,
  formatConfigTable,
  loadConfig,
  redactConfig,
  resolveSessionSettings,
  serviceTransport,
  toEngineOptions,
  toSessionOptions,
  type AicConfig,
  type AuthConfig,
  type ClientConfig,
  type ClientTransport,
  type ConfigSource,
  type ConfigVariable,
  type EngineConfig,
  type Environment,
  type HostPort,
  type HttpUrl,
  type LogLevel,
  type OffReason,
  type Override,
  type ServiceConfig,
  type ServiceTransport,
  type SessionDefaults,
  type SessionOptionsExtra,
  type SessionOverrides,
  type SessionSettings,
  type SettingSource,
  type TlsConfig,
  type UserSettings,
} from './config/index.js';
export { AicClient, ClientSession, clientOptionsFrom, createClient, type ClientCompressResult, type ClientFallbackReason, type ClientOptions, type ClientStats } from './client/index.js';
