// The fallback ladder's safe steps and the shape every compressFrame() result shares. A frame the
// neural path cannot serve still goes out as a payload the receiver decodes, with the reason.
import type { CheckedFrame } from '../frames.js';
import { PIXEL_FORMAT_CODE, SAMPLE_FORMAT_CODE } from '../frames.js';
import { packLossless } from '../lossless.js';
import type { CompressResult, FallbackReason, FrameSettings, FrameTimings } from './types.js';

export function now(): number {
  return performance.now();
}

/** What a path decides about a frame; the rest of its result comes from the frame and the settings. */
export type ResultHow = Pick<CompressResult, 'status' | 'codec' | 'qualityLevel' | 'quality' | 'timings' | 'passes'> & {
  fallbackReason?: FallbackReason | undefined;
  reductions?: CompressResult['reductions'];
};

/**
 * A compressFrame() result for a payload of `f`: one object literal in one field order for every
 * path (a spread of shared fields into each path's literal cost a tenth of the JS thread's work
 * per frame at hundreds of audio streams). fallbackReason is present only when there is one.
 */
export function resultOf(f: CheckedFrame, sequence: number, settings: Omit<FrameSettings, 'aim'>, payload: Buffer, how: ResultHow): CompressResult {
  const original = f.bytes.length;
  const r: CompressResult = {
    payload,
    frameType: f.type,
    originalBytes: original,
    compressedBytes: payload.length,
    compressionRatio: original > 0 ? 1 - payload.length / original : 0,
    mode: settings.mode,
    targetCompressionRatio: settings.target,
    minQualityScore: settings.floor,
    sequence,
    reductions: how.reductions ?? [],
    status: how.status,
    codec: how.codec,
    qualityLevel: how.qualityLevel,
    quality: how.quality,
    timings: how.timings,
    passes: how.passes,
  };
  if (how.fallbackReason) r.fallbackReason = how.fallbackReason;
  return r;
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
  return resultOf(f, sequence, settings, payload, {
    status: how.fallback ? 'fallback' : 'success',
    fallbackReason: how.reason,
    codec,
    qualityLevel: null,
    quality: f.type === 'audio' ? { score: 1, siSnrDb: 100, logMelDistanceDb: 0, holeFraction: 0, verified: true } : f.type === 'data' ? { score: 1, verified: true } : { score: 1, ssim: 1, psnrDb: 100, worstTileSsim: 1, verified: true },
    timings: { preprocessMs: spent.preprocessMs ?? 0, inferenceMs: spent.inferenceMs ?? 0, postprocessMs: (spent.postprocessMs ?? 0) + (now() - t), totalMs: 0 },
    passes: 0,
  });
}
