// Image quality of a reconstruction against its original, computed in C++ (native/core/image/metrics.h
// documents the definitions), and payload inspection.
import type { NativeAudioMetrics, NativeImageMetrics, NativePayloadHeader } from '../bindings.js';
import { AicError, callNative } from './errors.js';
import { native } from './native/load.js';

export type ImageQuality = NativeImageMetrics;
export type PayloadHeader = NativePayloadHeader;
export type AudioQuality = NativeAudioMetrics;

/**
 * PSNR (dB), SSIM, the worst 64-px tile's SSIM and MS-SSIM of two 8-bit frames of the same size:
 * for rgb24/rgba averaged over R, G, B; for i420 PSNR and SSIM of Y, U, V weighted 6:1:1, the
 * worst tile on Y (MS-SSIM is NaN for i420).
 * These are the measures sessions report in CompressResult.quality.
 */
export function imageQuality(original: ArrayBufferView, reconstruction: ArrayBufferView, width: number, height: number, format: 'rgb24' | 'rgba' | 'i420' = 'rgb24'): ImageQuality {
  if (format === 'i420') {
    const q = callNative(() => native().i420Metrics(original, reconstruction, width, height));
    return { psnr: q.psnr, ssim: q.ssim, worstTileSsim: q.worstTileSsim, msssim: NaN };
  }
  if (format !== 'rgb24' && format !== 'rgba') throw new AicError('INVALID_ARGUMENT', `format must be 'rgb24', 'rgba' or 'i420', got '${String(format)}'`);
  return callNative(() => native().imageMetrics(original, reconstruction, width, height, format === 'rgba' ? 4 : 3));
}

/**
 * Parses a payload's header after checking its length and CRC-32C. Neural audio frames between
 * keyframes use the short form (`shortForm: true`): there `sequence` and `timestamp` hold their
 * low 16 and 32 bits only, and the CRC, which covers the model id, is checked when decoding.
 * Predicted frames in the compact form (`version: 3`, `shortForm: true`) report 0 for `sequence`,
 * `timestamp`, `modelId`, `dim0` and `dim1`: those follow from the reference the receiving
 * session holds, whose `decompressFrame()` reports them; their CRC is checked when decoding.
 */
export function parsePayloadHeader(payload: ArrayBufferView): PayloadHeader {
  return callNative(() => native().parsePayloadHeader(payload));
}

/**
 * SI-SNR (dB), log-mel distance (dB), the audio score in [0, 1] and the spectral-hole fraction
 * (audible bins left 30 dB or more under the reference, over the whole band) of a decoded mono
 * signal against its reference at `sampleRate` (definitions in native/core/audio/audio_metrics.h).
 */
export function audioQuality(reference: Float32Array, decoded: Float32Array, sampleRate: number): AudioQuality {
  return callNative(() => native().audioMetrics(reference, decoded, sampleRate));
}
