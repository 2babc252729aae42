// The fallback ladder's safe steps and the shape every compressFrame() result shares. A frame the
// neural path cannot serve still goes out as a payload the receiver decodes, with the reason.
import type { CheckedFrame } from '../frames.js';
import { PIXEL_FORMAT_CODE, SAMPLE_FORMAT_CODE } from '../frames.js';
import { packLossless } from '../lossless.js';
import type { CompressResult, FallbackReason, FrameSettings, FrameTimings } from './types.js';

export function now(): number {
  return performance.now();
}

export type ResultBase = Omit<CompressResult, 'status' | 'codec' | 'qualityLevel' | 'quality' | 'timings' | 'passes'>;

/** The fields every result carries, for a payload of `f`. */
export function baseResult(f: CheckedFrame, sequence: number, settings: Omit<FrameSettings, 'aim'>, payload: Buffer): ResultBase {
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
    reductions: [],
  };
}

export interface LosslessHow {
  fallback: boolean;
  compress: boolean;
  level?: number;
  reason?: FallbackReason;
  timings?: Partial<FrameTimings>;
}

/** The frame's own bytes in a deflate or stored payload (whichever is smaller). */
export async function losslessResult(f: CheckedFrame, sequence: number, settings: Omit<FrameSettings, 'aim'>, how: LosslessHow): Promise<CompressResult> {
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
    ...baseResult(f, sequence, settings, payload),
    status: how.fallback ? 'fallback' : 'success',
    ...(how.reason ? { fallbackReason: how.reason } : {}),
    codec,
    qualityLevel: null,
    quality: f.type === 'audio' ? { score: 1, siSnrDb: 100, logMelDistanceDb: 0, holeFraction: 0, verified: true } : f.type === 'data' ? { score: 1, verified: true } : { score: 1, ssim: 1, psnrDb: 100, worstTileSsim: 1, verified: true },
    timings: { preprocessMs: spent.preprocessMs ?? 0, inferenceMs: spent.inferenceMs ?? 0, postprocessMs: (spent.postprocessMs ?? 0) + (now() - t), totalMs: 0 },
    passes: 0,
  };
}
