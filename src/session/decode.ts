// Decoding any payload back into a frame: lossless payloads exactly, neural image payloads with the
// engine's image codec, neural audio payloads with a decoder stream the caller supplies (a
// session's, or a fresh one for a sessionless decode).
import type { AudioDecoder } from '../audio-codec.js';
import { decodeOpusPayload, OpusDecoder } from '../conventional/opus.js';
import { AicError, readFields } from '../errors.js';
import { decodeConventional } from '../conventional/image.js';
import { AUDIO_RATES, audioBytes, imageBytes, MAX_DATA_BYTES, MAX_DIMENSION, MAX_PIXELS, ownBytes, type FrameType } from '../frames.js';
import { unpackLossless } from '../lossless.js';
import { native } from '../native/load.js';
import type { InterStream } from '../inter-codec.js';
import type { LargeDecodeLane } from './large-decodes.js';
import type { DecompressedFrame, DecompressOptions, PayloadCodec, SessionHost } from './types.js';

function now(): number {
  return performance.now();
}

/**
 * What one decode may produce (docs/api.md, "Decoder limits"), checked against the payload header
 * before anything is allocated or decoded; a payload over them is refused with LIMIT_EXCEEDED.
 */
export interface DecodeLimits {
  /** Pixels (width x height) of an image frame. Default 4096 x 4096 = 16777216; at most 67108864 (the encoder's ceiling). */
  maxPixels?: number;
  /** Bytes of a data frame. Default 16 MiB; at most 64 MiB (the encoder's ceiling). */
  maxDataBytes?: number;
  /** Samples (per channel x channels) of an audio frame. Default and ceiling 1920: 20 ms of 48 kHz stereo, the one frame size. */
  maxAudioSamples?: number;
}
export type ResolvedDecodeLimits = Readonly<Required<DecodeLimits>>;

export const LIMIT_CEILINGS: ResolvedDecodeLimits = Object.freeze({ maxPixels: MAX_PIXELS, maxDataBytes: MAX_DATA_BYTES, maxAudioSamples: 1920 });
export const DEFAULT_LIMITS: ResolvedDecodeLimits = Object.freeze({ maxPixels: 4096 * 4096, maxDataBytes: 16 * 1024 * 1024, maxAudioSamples: 1920 });

/**
 * Applies `given` over `base`. `where` names the option in messages; `ceiling` bounds each value
 * (the encoder's ceilings for an engine, the engine's limits for a session).
 */
export function resolveLimits(given: unknown, base: ResolvedDecodeLimits, ceiling: ResolvedDecodeLimits, where: string): ResolvedDecodeLimits {
  if (given === undefined) return base;
  if (given === null || typeof given !== 'object') throw new AicError('INVALID_ARGUMENT', `${where} must be an object { maxPixels, maxDataBytes, maxAudioSamples }`);
  const out = { ...base };
  for (const [key, value] of Object.entries(given as Record<string, unknown>)) {
    if (!(key in out)) throw new AicError('INVALID_ARGUMENT', `${where}.${key} is not a decoder limit (maxPixels, maxDataBytes, maxAudioSamples)`);
    if (value === undefined) continue;
    const k = key as keyof ResolvedDecodeLimits;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > ceiling[k]) {
      throw new AicError('INVALID_ARGUMENT', `${where}.${key} must be an integer from 1 to ${ceiling[k]}, got ${String(value)}`);
    }
    out[k] = value;
  }
  return Object.freeze(out);
}

/** LIMIT_EXCEEDED when the header describes more than `limits` allow (the parser has checked its fields). */
function checkLimits(h: { codec: PayloadCodec; frameType: FrameType; dim0: number; dim1: number }, limits: ResolvedDecodeLimits): void {
  const over = (what: string, value: number, key: keyof ResolvedDecodeLimits) =>
    new AicError(
      'LIMIT_EXCEEDED',
      `the payload describes ${what} (${value}), over this decoder's limits.${key} of ${limits[key]}; ` +
        (limits[key] < LIMIT_CEILINGS[key]
          ? `raise it, up to ${LIMIT_CEILINGS[key]}, with createEngine({ limits: { ${key} } }) (and openSession({ limits }) if the session lowered it) if such frames are expected`
          : 'this is the encoder\'s ceiling too, so no aic sender writes such a frame'),
    );
  if (h.frameType === 'audio') {
    const samples = (h.dim1 >>> 16) * (h.dim1 & 0xffff);
    if (samples > limits.maxAudioSamples) throw over(`${h.dim1 >>> 16} x ${h.dim1 & 0xffff} audio samples`, samples, 'maxAudioSamples');
  } else if (h.frameType === 'data') {
    if (h.dim0 > limits.maxDataBytes) throw over('a data frame of that many bytes', h.dim0, 'maxDataBytes');
  } else if (h.dim0 * h.dim1 > limits.maxPixels) {
    throw over(`a ${h.dim0}x${h.dim1} image, that many pixels`, h.dim0 * h.dim1, 'maxPixels');
  }
}


/**
 * decompressFrame()'s arguments, checked: its options read once (a throwing getter or a revoked
 * Proxy is INVALID_ARGUMENT) and a copy of the payload taken now (frames.ts ownBytes()), so the
 * caller may reuse its buffer as soon as the call returns.
 */
export function checkDecompressArgs(payload: unknown, given: unknown): { bytes: Buffer; options: DecompressOptions } {
  if (given === null || typeof given !== 'object') throw new AicError('INVALID_ARGUMENT', 'decompressFrame() options must be an object');
  const options = readFields(given, ['output', 'whenBusy'], 'options') as DecompressOptions;
  if (!ArrayBuffer.isView(payload)) throw new AicError('INVALID_ARGUMENT', 'decompressFrame() takes the payload as a Buffer or TypedArray');
  if (options.output !== undefined && !Buffer.isBuffer(options.output)) throw new AicError('INVALID_ARGUMENT', 'options.output must be a Buffer');
  return { bytes: ownBytes(payload, 'payload'), options };
}

/** What a decode needs of its session or engine. */
type DecodeHost = Pick<SessionHost, 'image' | 'audio' | 'imageUnavailable' | 'audioUnavailable'>;

/** A session's receiving side of predicted frames (its reference); absent for a sessionless decode. */
export interface InterReceiver {
  receiver(): InterStream | null;
}

function corrupt(what: string): AicError {
  return new AicError('CORRUPT_PAYLOAD', `payload header ${what}; the payload is corrupt`);
}

/**
 * Decodes any payload. `receiver` supplies the audio decoder state for neural audio (a session's,
 * or a fresh one for a sessionless decode).
 */
export async function decodePayload(
  bytes: Buffer,
  host: DecodeHost & { limits?: ResolvedDecodeLimits; largeDecodes?: LargeDecodeLane },
  output: Buffer | undefined,
  receiver: (header: { codec: PayloadCodec; dim0: number; dim1: number; format: number; frameType: FrameType; keyframe: boolean }) => AudioDecoder | OpusDecoder | null,
  inter?: InterReceiver,
): Promise<DecompressedFrame> {
  const t = now();
  let h;
  try {
    h = native().parsePayloadHeader(bytes);
  } catch (error) {
    throw AicError.from(error);
  }
  // A compact predicted frame (version 3) is the size of the reference it is coded against: the
  // receiver's, which fitted the limits when it was adopted (its decode refuses any other).
  if (h.codec === 'predicted' && h.shortForm) {
    const size = inter?.receiver()?.referenceSize();
    if (size) h = { ...h, dim0: size.width, dim1: size.height };
  }
  // Before any stream state is touched or anything the size of the frame is allocated.
  checkLimits(h, host.limits ?? DEFAULT_LIMITS);
  // The header must describe something its codec can carry before any stream state is touched:
  // a payload that will be refused must not reset the receiver's decoders on its way out.
  const audioCodec = h.codec === 'neural-audio' || h.codec === 'opus';
  const imageCodec = h.codec === 'neural-image' || h.codec === 'webp' || h.codec === 'jpeg' || h.codec === 'predicted';
  if ((audioCodec && h.frameType !== 'audio') || (imageCodec && h.frameType !== 'video' && h.frameType !== 'screen')) throw corrupt(`says a ${h.codec} payload carries a ${h.frameType} frame`);
  if (h.frameType === 'audio' && h.codec !== 'neural-audio') {
    const channels = h.dim1 >>> 16;
    if (h.format > 1 || (channels !== 1 && channels !== 2) || !AUDIO_RATES.includes(h.dim0) || (h.dim1 & 0xffff) !== h.dim0 / 50) throw corrupt('describes impossible audio');
  }
  const decoder = receiver(h);
  // Large frames take turns in a lane of their own (large-decodes.ts); the rest never wait for them.
  const body = () => decodeBody(bytes, h, host, output, decoder, t, inter, host.limits ?? DEFAULT_LIMITS);
  return host.largeDecodes ? host.largeDecodes.run(declaredBytes(h), body) : body();
}

type PayloadHeader = ReturnType<ReturnType<typeof native>['parsePayloadHeader']>;

/** The edge border of a predicted-frame reference on each side (native/core/video/inter_codec.h, ReferenceFrame::kBorder). */
const REFERENCE_BORDER = 96;
/** Whether the reference of a frame of this size (border included) is within `maxPixels`. */
export const referenceFits = (width: number, height: number, maxPixels: number): boolean => (width + 2 * REFERENCE_BORDER) * (height + 2 * REFERENCE_BORDER) <= maxPixels;

/** Bytes the header says the decode will produce (the limits have been checked). */
function declaredBytes(h: PayloadHeader): number {
  if (h.frameType === 'data') return h.dim0;
  if (h.frameType === 'audio') return audioBytes('f32le', h.dim1 >>> 16, h.dim1 & 0xffff);
  const format = (['rgb24', 'rgba', 'i420'] as const)[h.format] ?? 'rgba';
  return imageBytes(format, h.dim0, h.dim1);
}

async function decodeBody(
  bytes: Buffer,
  h: PayloadHeader,
  host: DecodeHost,
  output: Buffer | undefined,
  decoder: AudioDecoder | OpusDecoder | null,
  t: number,
  inter: InterReceiver | undefined,
  limits: ResolvedDecodeLimits,
): Promise<DecompressedFrame> {
  const base = { timestamp: h.timestamp, sequence: h.sequence, keyframe: h.keyframe, fallback: h.fallback };
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
    // Every neural image frame a session receives is the reference of the predicted frames that
    // may follow it, as it is on the sending side (kept as bytes until one needs it).
    // A reference is the frame with an edge border on every side; where that is more pixels than
    // the limits allow (a very thin frame: 16384x1 holds about 200 times its pixels), the frame
    // is shown but not kept, and predicted frames against it are refused with REFERENCE_MISSING.
    if (referenceFits(h.dim0, h.dim1, limits.maxPixels)) inter?.receiver()?.adoptKeyframe(bytes);
    else inter?.receiver()?.reset();
    return { type: h.frameType, format: d.format, data: d.data as Buffer, width: d.width, height: d.height, ...base, codec: 'neural-image', qualityLevel: h.qualityLevel, timings: { totalMs: now() - t } };
  }
  if (h.codec === 'predicted') {
    const stream = inter?.receiver();
    if (!inter) throw new AicError('REFERENCE_MISSING', 'a predicted frame decodes only in the session that received its keyframe: use session.decompressFrame(), not engine.decompressFrame()');
    if (!stream) throw new AicError('MODEL_MISMATCH', 'this predicted frame needs an inter model and the engine has none; load the models that coded it');
    const d = await stream.decode(bytes, output);
    // The decoder restores what a compact header leaves out (from the reference).
    return {
      type: h.frameType,
      format: d.format,
      data: d.data as Buffer,
      width: d.width,
      height: d.height,
      ...base,
      timestamp: d.header.timestamp,
      sequence: d.header.sequence,
      codec: 'predicted',
      qualityLevel: h.qualityLevel,
      timings: { totalMs: now() - t },
    };
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
    ...(d.comfortNoise ? { comfortNoise: true } : {}),
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