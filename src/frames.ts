// The frames compressFrame() takes and decompressFrame() returns, and their validation. Every
// check here throws AicError('INVALID_ARGUMENT') with what was wrong and what is expected.
import { SUPPORTED_AUDIO_RATES } from './audio-codec.js';
import { AicError, readFields } from './errors.js';

export type FrameType = 'video' | 'screen' | 'audio' | 'data';
export type PixelFormat = 'rgb24' | 'rgba' | 'i420';
export type AudioSampleFormat = 's16le' | 'f32le';

interface FrameCommon {
  /** Caller's timestamp in microseconds (carried in the payload). Default: 0. */
  timestamp?: number;
  /** Force a keyframe (video/screen: every payload is intra-coded, so this is only a flag). */
  keyframe?: boolean;
}

export interface VideoFrame extends FrameCommon {
  type: 'video' | 'screen';
  format: PixelFormat;
  width: number;
  height: number;
  /** rgb24/rgba: interleaved rows, no padding; i420: Y then U then V (chroma ceil(w/2) x ceil(h/2)), BT.601 limited range. */
  data: ArrayBufferView;
  /** Frames per second of the stream, used to turn network bandwidth into a per-frame budget. */
  fps?: number;
}

export interface AudioFrame extends FrameCommon {
  type: 'audio';
  format: AudioSampleFormat;
  /** 8000, 16000, 32000 or 48000 Hz. */
  sampleRate: number;
  /** 1 or 2 (interleaved). */
  channels: number;
  /** Exactly 20 ms: sampleRate / 50 samples per channel. */
  data: ArrayBufferView;
}

export interface DataFrame extends FrameCommon {
  type: 'data';
  /** Opaque bytes, coded losslessly. */
  data: ArrayBufferView;
}

export type Frame = VideoFrame | AudioFrame | DataFrame;

export const MAX_DIMENSION = 16384;
/** 64 Mpixel: beyond this a frame is not live media. */
export const MAX_PIXELS = 64 * 1024 * 1024;
export const MAX_DATA_BYTES = 64 * 1024 * 1024;
export const AUDIO_RATES: readonly number[] = SUPPORTED_AUDIO_RATES;
export const FRAME_TYPES: readonly FrameType[] = ['video', 'screen', 'audio', 'data'];

/** Payload format codes (docs/bitstream.md). */
export const PIXEL_FORMAT_CODE: Record<PixelFormat, number> = { rgb24: 0, rgba: 1, i420: 2 };
export const SAMPLE_FORMAT_CODE: Record<AudioSampleFormat, number> = { s16le: 0, f32le: 1 };

export function imageBytes(format: PixelFormat, width: number, height: number): number {
  if (format === 'i420') return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
  return width * height * (format === 'rgba' ? 4 : 3);
}

export function audioBytes(format: AudioSampleFormat, channels: number, samplesPerChannel: number): number {
  return samplesPerChannel * channels * (format === 'f32le' ? 4 : 2);
}

function invalid(message: string): never {
  throw new AicError('INVALID_ARGUMENT', message);
}

/**
 * A copy of a view's bytes, owned by aic (docs/native-core.md, "Caller memory"): taken when the
 * call is made, so that whatever the caller does to its memory afterwards (reuse, mutate,
 * detach, transfer, resize, drop) reaches neither the work nor the payloads returned. Views of
 * SharedArrayBuffers and of resizable ArrayBuffers are copied like any other; a detached or
 * out-of-bounds view is INVALID_ARGUMENT.
 */
export function ownBytes(data: unknown, what: string): Buffer {
  if (!ArrayBuffer.isView(data)) invalid(`${what} must be a Buffer, TypedArray or DataView`);
  const buffer = data.buffer as ArrayBuffer & { detached?: boolean };
  if (buffer.detached === true) invalid(`${what}'s ArrayBuffer is detached (transferred or detached); pass memory that stays attached for the call`);
  let view: Uint8Array;
  try {
    view = new Uint8Array(buffer, data.byteOffset, data.byteLength);
  } catch (error) {
    // A view past the end of a resizable ArrayBuffer that shrank.
    throw new AicError('INVALID_ARGUMENT', `${what} lies outside its ArrayBuffer (was it resized?); pass a view of memory that holds the frame`, { cause: error });
  }
  if (view.byteLength === 0 && buffer.byteLength === 0 && isDetached(buffer)) {
    invalid(`${what}'s ArrayBuffer is detached (transferred or detached); pass memory that stays attached for the call`);
  }
  return Buffer.from(view);
}

/**
 * Settles like `work`, except that a failure after the caller's `output` was detached, transferred
 * or resized during the call is INVALID_ARGUMENT saying so (not the OUTPUT_MISMATCH it shows up as).
 */
export async function withCallerOutput<T>(output: Buffer | undefined, work: () => Promise<T>): Promise<T> {
  const length = output?.length ?? 0;
  try {
    return await work();
  } catch (error) {
    if (output && (output.length !== length || isDetached(output.buffer as ArrayBuffer))) {
      throw new AicError('INVALID_ARGUMENT', `options.output was detached, transferred or resized while the call ran; keep it untouched until the call settles`, { cause: error });
    }
    throw error;
  }
}

/** Node 20 has no ArrayBuffer.prototype.detached: a detached buffer is one that cannot be sliced. */
function isDetached(buffer: ArrayBuffer): boolean {
  if (typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer) return false;
  try {
    buffer.slice(0, 0);
    return false;
  } catch {
    return true;
  }
}

function positiveInt(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) invalid(`${what} must be an integer from 1 to ${max}, got ${String(v)}`);
  return v;
}

function checkCommon(f: FrameCommon): void {
  if (f.timestamp !== undefined && (typeof f.timestamp !== 'number' || !Number.isFinite(f.timestamp) || f.timestamp < 0 || f.timestamp > Number.MAX_SAFE_INTEGER)) {
    invalid(`frame.timestamp must be a non-negative number of microseconds, got ${String(f.timestamp)}`);
  }
  if (f.keyframe !== undefined && typeof f.keyframe !== 'boolean') invalid('frame.keyframe must be a boolean');
}

/** A frame after validation: every field read once, its bytes a copy aic owns (ownBytes()). */
export type CheckedFrame =
  | (VideoFrame & { bytes: Buffer })
  | (AudioFrame & { bytes: Buffer; samplesPerChannel: number })
  | (DataFrame & { bytes: Buffer });

const FRAME_FIELDS = ['type', 'format', 'width', 'height', 'sampleRate', 'channels', 'data', 'timestamp', 'keyframe', 'fps'] as const;

export function checkFrame(frame: unknown): CheckedFrame {
  if (frame === null || typeof frame !== 'object') invalid('compressFrame() takes a frame object { type, format, data, ... }');
  const f = readFields(frame, FRAME_FIELDS, 'frame') as Partial<Frame> & Record<string, unknown>;
  if (typeof f.type !== 'string' || !(FRAME_TYPES as readonly string[]).includes(f.type)) {
    invalid(`frame.type must be one of ${FRAME_TYPES.join(', ')}, got ${JSON.stringify(f.type)}`);
  }
  checkCommon(f as FrameCommon);
  const bytes = ownBytes(f.data, 'frame.data');
  if (f.type === 'data') {
    if (bytes.length > MAX_DATA_BYTES) invalid(`data frames are limited to ${MAX_DATA_BYTES} bytes, got ${bytes.length}; split the data`);
    return { ...(f as DataFrame), bytes };
  }
  if (f.type === 'audio') {
    const a = f as Partial<AudioFrame>;
    if (a.format !== 's16le' && a.format !== 'f32le') invalid(`audio frame.format must be 's16le' or 'f32le', got ${JSON.stringify(a.format)}`);
    if (typeof a.sampleRate !== 'number' || !AUDIO_RATES.includes(a.sampleRate)) {
      invalid(`audio frame.sampleRate must be one of ${AUDIO_RATES.join(', ')} Hz, got ${String(a.sampleRate)}; resample first`);
    }
    if (a.channels !== 1 && a.channels !== 2) invalid(`audio frame.channels must be 1 or 2, got ${String(a.channels)}; downmix to stereo or mono first (or send each channel pair as a stream of its own)`);
    const samplesPerChannel = a.sampleRate / 50;
    const need = audioBytes(a.format, a.channels, samplesPerChannel);
    if (bytes.length !== need) {
      invalid(`a 20 ms ${a.format} frame of ${a.channels} channel(s) at ${a.sampleRate} Hz is ${need} bytes (${samplesPerChannel} samples per channel), got ${bytes.length}; cut audio into 20 ms frames`);
    }
    if (a.format === 'f32le') {
      // A view where the copy is 4-byte aligned (as a rule), else a copy of its own to read.
      const samples = bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) : new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      for (let i = 0; i < samples.length; i++) {
        if (!Number.isFinite(samples[i]!)) invalid(`audio sample ${i} is ${String(samples[i])}; f32le samples must be finite (nominally -1..1)`);
      }
    }
    // A literal rather than a spread of what was read: this runs for every 20 ms of every stream.
    return { type: 'audio', format: a.format, sampleRate: a.sampleRate, channels: a.channels, data: a.data!, timestamp: a.timestamp, keyframe: a.keyframe, bytes, samplesPerChannel };
  }
  const v = f as Partial<VideoFrame>;
  if (v.format !== 'rgb24' && v.format !== 'rgba' && v.format !== 'i420') {
    invalid(`${f.type} frame.format must be 'rgb24', 'rgba' or 'i420', got ${JSON.stringify(v.format)}`);
  }
  const width = positiveInt(v.width, 'frame.width', MAX_DIMENSION);
  const height = positiveInt(v.height, 'frame.height', MAX_DIMENSION);
  if (width * height > MAX_PIXELS) invalid(`a ${width}x${height} frame is over the ${MAX_PIXELS}-pixel limit`);
  const need = imageBytes(v.format, width, height);
  if (bytes.length !== need) invalid(`a ${width}x${height} ${v.format} frame is ${need} bytes, got ${bytes.length}; check width, height and format`);
  if (v.fps !== undefined && (typeof v.fps !== 'number' || !(v.fps > 0 && v.fps <= 1000))) invalid(`frame.fps must be a number in (0, 1000], got ${String(v.fps)}`);
  return { ...(v as VideoFrame), bytes };
}
