// Decoding any payload back into a frame: lossless payloads exactly, neural image payloads with the
// engine's image codec, neural audio payloads with a decoder stream the caller supplies (a
// session's, or a fresh one for a sessionless decode).
import type { AudioDecoder } from '../audio-codec.js';
import { decodeOpusPayload, OpusDecoder } from '../conventional/opus.js';
import { AicError } from '../errors.js';
import { decodeConventional } from '../conventional/image.js';
import { AUDIO_RATES, audioBytes, imageBytes, MAX_DIMENSION, MAX_PIXELS, type FrameType } from '../frames.js';
import { unpackLossless } from '../lossless.js';
import { native } from '../native.js';
import type { DecompressedFrame, DecompressOptions, PayloadCodec, SessionHost } from './types.js';

function now(): number {
  return performance.now();
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
  receiver: (header: { codec: PayloadCodec; dim0: number; dim1: number; format: number; frameType: FrameType; keyframe: boolean }) => AudioDecoder | OpusDecoder | null,
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
  // The header must describe something its codec can carry before any stream state is touched:
  // a payload that will be refused must not reset the receiver's decoders on its way out.
  const audioCodec = h.codec === 'neural-audio' || h.codec === 'opus';
  const imageCodec = h.codec === 'neural-image' || h.codec === 'webp' || h.codec === 'jpeg';
  if ((audioCodec && h.frameType !== 'audio') || (imageCodec && h.frameType !== 'video' && h.frameType !== 'screen')) throw corrupt(`says a ${h.codec} payload carries a ${h.frameType} frame`);
  if (h.frameType === 'audio' && h.codec !== 'neural-audio') {
    const channels = h.dim1 >>> 16;
    if (h.format > 1 || (channels !== 1 && channels !== 2) || !AUDIO_RATES.includes(h.dim0) || (h.dim1 & 0xffff) !== h.dim0 / 50) throw corrupt('describes impossible audio');
  }
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
  if (h.codec === 'webp' || h.codec === 'jpeg') {
    const f = (['rgb24', 'rgba', 'i420'] as const)[h.format];
    if (!f || (h.frameType !== 'video' && h.frameType !== 'screen') || h.dim0 < 1 || h.dim1 < 1 || h.dim0 > MAX_DIMENSION || h.dim1 > MAX_DIMENSION || h.dim0 * h.dim1 > MAX_PIXELS) {
      throw corrupt('describes an impossible image');
    }
    const data = await decodeConventional(bytes.subarray(h.bodyOffset, h.bodyOffset + h.bodyLength), h.codec, f, h.dim0, h.dim1);
    return { type: h.frameType, format: f, data: intoOutput(data, output), width: h.dim0, height: h.dim1, ...base, codec: h.codec, qualityLevel: h.qualityLevel, timings: { totalMs: now() - t } };
  }
  if (h.codec === 'opus') {
    // A session's receiver keeps the stream's Opus decoder; a sessionless decode uses a fresh one.
    const d = await decodeOpusPayload(bytes, h, decoder instanceof OpusDecoder ? decoder : null, corrupt);
    return { type: 'audio', ...d, data: intoOutput(d.data, output), ...base, codec: 'opus', qualityLevel: h.qualityLevel, timings: { totalMs: now() - t } };
  }
  if (h.codec === 'neural-image') {
    const codec = host.image();
    if (!codec) throw new AicError('MODEL_MISMATCH', `this payload needs an image model and the engine has none (${host.imageUnavailable()}); load the model that coded it`);
    const d = await codec.decode(bytes, output ? { output } : undefined);
    return { type: h.frameType, format: d.format, data: d.data as Buffer, width: d.width, height: d.height, ...base, codec: 'neural-image', qualityLevel: h.qualityLevel, timings: { totalMs: now() - t } };
  }
  const codec = host.audio();
  if (!codec || !decoder || decoder instanceof OpusDecoder) throw new AicError('MODEL_MISMATCH', `this payload needs an audio model and the engine has none (${host.audioUnavailable()}); load the model that coded it`);
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