// Between the .proto's messages (service/proto/auralink/aic/v1/aic.proto, loaded by proto-loader
// with enums as strings and longs as numbers) and the library's frames, options and results.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { AicError, type CompressionHints, type CompressionMode, type CompressResult, type DecompressedFrame, type Frame, type NetworkAnalysis, type NetworkConditions } from '@auralink/aic';

export interface ProtoMetadata {
  width?: number;
  height?: number;
  fps?: number;
  sample_rate?: number;
  channels?: number;
  keyframe?: boolean;
  timestamp_us?: number;
  pixel_format?: string;
  sample_format?: string;
}

export interface ProtoNetwork {
  available_bandwidth_kbps?: number;
  rtt_ms?: number;
  packet_loss_percent?: number;
  jitter_ms?: number;
  timestamp_ms?: number;
}

export interface CompressFrameRequest {
  session_id?: string;
  user_id?: string;
  frame_type?: string;
  frame_data?: Buffer;
  metadata?: ProtoMetadata | null;
  mode?: string;
  target_compression_ratio?: number;
  max_latency_ms?: number;
  min_quality_score?: number;
  network?: ProtoNetwork | null;
  sequence?: number;
}

export interface DecompressFrameRequest {
  session_id?: string;
  user_id?: string;
  compressed_data?: Buffer;
  sequence?: number;
}

const FRAME_TYPES: Record<string, Frame['type']> = { FRAME_TYPE_VIDEO: 'video', FRAME_TYPE_AUDIO: 'audio', FRAME_TYPE_SCREEN: 'screen', FRAME_TYPE_DATA: 'data' };
const MODES: Record<string, CompressionMode> = { COMPRESSION_MODE_OFF: 'off', COMPRESSION_MODE_CONSERVATIVE: 'conservative', COMPRESSION_MODE_ADAPTIVE: 'adaptive', COMPRESSION_MODE_AGGRESSIVE: 'aggressive' };

/** An error the client made, as a gRPC status with a message naming the field. */
export class RequestError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
  ) {
    super(message);
  }
}

export function frameType(value: string | undefined): Frame['type'] {
  const t = value ? FRAME_TYPES[value] : undefined;
  if (!t) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, `frame_type must be one of ${Object.keys(FRAME_TYPES).join(', ')} (got ${value ?? 'FRAME_TYPE_UNSPECIFIED'})`);
  return t;
}

/** The request's mode, or undefined for COMPRESSION_MODE_UNSPECIFIED. */
export function mode(value: string | undefined): CompressionMode | undefined {
  if (!value || value === 'COMPRESSION_MODE_UNSPECIFIED') return undefined;
  const m = MODES[value];
  if (!m) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, `mode must be one of ${Object.keys(MODES).join(', ')} (got ${value})`);
  return m;
}

export function modeEnum(m: CompressionMode): string {
  return `COMPRESSION_MODE_${m.toUpperCase()}`;
}

export function toFrame(req: CompressFrameRequest): Frame {
  const type = frameType(req.frame_type);
  const data = req.frame_data;
  if (!data || data.length === 0) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, 'frame_data is empty');
  const md = req.metadata ?? {};
  const timestamp = md.timestamp_us ? Number(md.timestamp_us) : undefined;
  const common = { ...(timestamp !== undefined ? { timestamp } : {}), ...(md.keyframe ? { keyframe: true } : {}) };
  if (type === 'data') return { type, data, ...common };
  if (type === 'audio') {
    if (!md.sample_rate) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, 'metadata.sample_rate is required for audio frames (8000, 16000, 32000 or 48000)');
    return { type, format: (md.sample_format || 's16le') as 's16le', sampleRate: md.sample_rate, channels: md.channels || 1, data, ...common };
  }
  if (!md.width || !md.height) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, `metadata.width and metadata.height are required for ${type} frames`);
  return { type, format: (md.pixel_format || 'rgb24') as 'rgb24', width: md.width, height: md.height, data, ...(md.fps ? { fps: md.fps } : {}), ...common };
}

export function toNetwork(n: ProtoNetwork | null | undefined): NetworkConditions | undefined {
  if (!n) return undefined;
  const out: NetworkConditions = {};
  if (n.available_bandwidth_kbps) out.availableBandwidthKbps = n.available_bandwidth_kbps;
  if (n.rtt_ms) out.rttMs = n.rtt_ms;
  if (n.packet_loss_percent) out.packetLossPercent = n.packet_loss_percent;
  if (n.jitter_ms) out.jitterMs = n.jitter_ms;
  if (n.timestamp_ms) out.timestamp = Number(n.timestamp_ms);
  return Object.keys(out).length ? out : undefined;
}

/** `model` is what coded the frame (engine.codedBy()): model_type and model_version. */
export function compressResponse(sessionId: string, sequence: number, r: CompressResult, model: { name: string; version: string }) {
  return {
    session_id: sessionId,
    sequence,
    status: r.status === 'success' ? 'COMPRESSION_STATUS_SUCCESS' : r.status === 'fallback' ? 'COMPRESSION_STATUS_FALLBACK' : 'COMPRESSION_STATUS_QUALITY_THRESHOLD_NOT_MET',
    compressed_data: r.payload,
    original_size: r.originalBytes,
    compressed_size: r.compressedBytes,
    actual_compression_ratio: r.compressionRatio,
    quality: { score: r.quality.score, psnr_db: r.quality.psnrDb ?? 0, ssim: r.quality.ssim ?? 0, verified: r.quality.verified },
    model_type: model.name,
    model_version: model.version,
    timings: { preprocessing_ms: r.timings.preprocessMs, inference_ms: r.timings.inferenceMs, postprocessing_ms: r.timings.postprocessMs, total_ms: r.timings.totalMs },
    fallback_used: r.status === 'fallback',
    fallback_reason: r.fallbackReason ?? '',
    codec: r.codec,
    mode: modeEnum(r.mode),
    error_message: '',
  };
}

export function decompressResponse(sessionId: string, sequence: number, f: DecompressedFrame) {
  const type = f.type === 'video' ? 'FRAME_TYPE_VIDEO' : f.type === 'screen' ? 'FRAME_TYPE_SCREEN' : f.type === 'audio' ? 'FRAME_TYPE_AUDIO' : 'FRAME_TYPE_DATA';
  const metadata: ProtoMetadata = { keyframe: f.keyframe, timestamp_us: f.timestamp };
  if (f.width !== undefined) Object.assign(metadata, { width: f.width, height: f.height, pixel_format: f.format });
  if (f.sampleRate !== undefined) Object.assign(metadata, { sample_rate: f.sampleRate, channels: f.channels, sample_format: f.format });
  return { session_id: sessionId, sequence, frame_type: type, frame_data: f.data, metadata, error_message: '', ok: true };
}

export function hintsResponse(h: CompressionHints) {
  return {
    recommended_mode: modeEnum(h.recommendedMode),
    recommended_compression_ratio: h.recommendedCompressionRatio,
    predicted_compression_ratio: h.predictedCompressionRatio,
    predicted_quality_score: h.predictedQualityScore,
    predicted_latency_ms: h.predictedLatencyMs,
    confidence: h.confidence,
    frame_budget_bytes: h.frameBudgetBytes ?? -1,
    recommended_max_pixels: h.recommendedMaxPixels ?? -1,
    recommended_fps: h.recommendedFps ?? 0,
  };
}

export function analysisResponse(a: NetworkAnalysis) {
  const r = a.recommendation;
  return {
    bandwidth_estimate_kbps: a.bandwidthEstimateKbps,
    predicted_bandwidth_kbps: a.predictedBandwidthKbps5s,
    stability_score: a.stability,
    network_quality: a.quality,
    recommended_mode: modeEnum(r.mode),
    recommended_compression_ratio: r.targetCompressionRatio,
    recommendation: `${r.mode} at a target ratio of ${r.targetCompressionRatio.toFixed(2)} (${a.quality} link, ~${Math.round(a.bandwidthEstimateKbps)} kbps, stability ${a.stability.toFixed(2)})`,
  };
}

/** The gRPC status of a failure: the library's error codes mapped onto gRPC's, with the message. */
export function grpcStatusOf(error: unknown): { code: GrpcStatus; details: string } {
  if (error instanceof RequestError) return { code: error.code, details: error.message };
  const e = AicError.from(error);
  const code: Record<string, GrpcStatus> = {
    INVALID_ARGUMENT: GrpcStatus.INVALID_ARGUMENT,
    INVALID_CONFIG: GrpcStatus.INVALID_ARGUMENT,
    OUTPUT_MISMATCH: GrpcStatus.INVALID_ARGUMENT,
    CORRUPT_PAYLOAD: GrpcStatus.DATA_LOSS,
    UNSUPPORTED_VERSION: GrpcStatus.FAILED_PRECONDITION,
    MODEL_MISMATCH: GrpcStatus.FAILED_PRECONDITION,
    LIMIT_EXCEEDED: GrpcStatus.RESOURCE_EXHAUSTED,
    SESSION_LIMIT: GrpcStatus.RESOURCE_EXHAUSTED,
    RESOURCE_EXHAUSTED: GrpcStatus.RESOURCE_EXHAUSTED,
    OUT_OF_MEMORY: GrpcStatus.RESOURCE_EXHAUSTED,
    CLOSED: GrpcStatus.UNAVAILABLE,
  };
  return { code: code[e.code] ?? GrpcStatus.INTERNAL, details: `${e.code}: ${e.message}` };
}
