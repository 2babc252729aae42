// Opus, the conventional codec of the audio fallback ladder (libopus in the C++ core,
// native/core/conventional/opus_codec.h). One encoder per sending stream and one decoder per
// receiving stream; calls on one stream are queued. An Opus payload (codec 6, docs/bitstream.md)
// has the header of a lossless audio payload (dim0 the rate, dim1 channels << 16 | samples per
// channel, format the sample format) and one Opus packet as its body; its qualityLevel is the
// bitrate in kbit/s the packet was coded at.
import { SerialQueue } from '../serial-queue.js';
import type { AudioScoreWindow, OpusDecoderStream, OpusEncoderStream } from '../../bindings.js';
import { AicError, awaitNative, callNative } from '../errors.js';
import { AUDIO_RATES, audioBytes, type AudioSampleFormat } from '../frames.js';
import { native } from '../native/load.js';

/** The bitrates (kbit/s per channel) the fallback tries, low to high. 20 ms VOIP frames. */
export const OPUS_LADDER_KBPS: readonly number[] = [8, 12, 16, 24, 32, 48, 64, 96, 128];

/** The bitrate in kbit/s of ladder step `step` for a stream of `channels` (at most 255: it is the payload's qualityLevel). */
export function opusKbps(step: number, channels: number): number {
  return Math.min(255, OPUS_LADDER_KBPS[step]! * channels);
}


export class OpusEncoder {
  readonly sampleRate: number;
  readonly channels: number;
  readonly #native: OpusEncoderStream;
  readonly #queue = new SerialQueue();

  constructor(sampleRate: number, channels: number, application: 'voip' | 'audio' = 'voip') {
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.#native = callNative(() => new (native().OpusEncoderStream)(sampleRate, channels, application));
  }

  /** Samples per channel by which the decoded stream trails the input. */
  get delaySamples(): number {
    return this.#native.delaySamples;
  }

  encode(data: ArrayBufferView, format: AudioSampleFormat, kbps: number, vbr = true): Promise<{ packet: Buffer; ms: number }> {
    return this.#queue.run(() => awaitNative(callNative(() => this.#native.encode({ data, format }, { bitrate: kbps * 1000, vbr }))));
  }

  /** @internal One scored try of the session's Opus ladder (OpusEncoderStream.tryScored), in one native job. */
  tryScored(data: ArrayBufferView, format: AudioSampleFormat, kbps: number, shadow: OpusDecoder, window: AudioScoreWindow, pending: Float32Array, exactPrefix: number) {
    return this.#queue.run(() => awaitNative(callNative(() => this.#native.tryScored({ data, format }, { bitrate: kbps * 1000, vbr: true }, shadow.nativeStream(), window, pending, exactPrefix))));
  }

  mark(): void {
    callNative(() => this.#native.mark());
  }

  rewind(): void {
    callNative(() => this.#native.rewind());
  }

  reset(): void {
    callNative(() => this.#native.reset());
  }
}

export class OpusDecoder {
  readonly sampleRate: number;
  readonly channels: number;
  readonly #native: OpusDecoderStream;
  readonly #queue = new SerialQueue();

  /** @internal The native stream (OpusEncoder.tryScored decodes with it in the same job). */
  nativeStream(): OpusDecoderStream {
    return this.#native;
  }

  constructor(sampleRate: number, channels: number) {
    if (!AUDIO_RATES.includes(sampleRate) || (channels !== 1 && channels !== 2)) throw new AicError('CORRUPT_PAYLOAD', 'payload header describes impossible audio; the payload is corrupt');
    this.sampleRate = sampleRate;
    this.channels = channels;
    this.#native = callNative(() => new (native().OpusDecoderStream)(sampleRate, channels));
  }

  decode(packet: ArrayBufferView, format: AudioSampleFormat): Promise<{ data: Buffer; ms: number }> {
    return this.#queue.run(() => awaitNative(callNative(() => this.#native.decode(packet, format))));
  }

  mark(): void {
    callNative(() => this.#native.mark());
  }

  rewind(): void {
    callNative(() => this.#native.rewind());
  }

  /** A frame for a packet that never arrived: libopus's concealment. */
  conceal(format: AudioSampleFormat): Promise<{ data: Buffer; ms: number }> {
    return this.#queue.run(() => awaitNative(callNative(() => this.#native.conceal(format))));
  }

  reset(): void {
    callNative(() => this.#native.reset());
  }
}

/** Samples per channel by which Opus output trails its input at `sampleRate` (libopus's lookahead, plus resampling at 32 kHz). */
const delays = new Map<number, number>();
export function opusDelaySamples(sampleRate: number): number {
  let d = delays.get(sampleRate);
  if (d === undefined) {
    d = new OpusEncoder(sampleRate, 1).delaySamples;
    delays.set(sampleRate, d);
  }
  return d;
}

/**
 * Decodes an Opus payload (codec 6) with `decoder` (the receiver's stream; a fresh one when null).
 * The frame comes back `delaySamples` late: offsetSamples is minus that.
 */
export async function decodeOpusPayload(
  payload: Buffer,
  h: { frameType: string; dim0: number; dim1: number; format: number; bodyOffset: number; bodyLength: number },
  decoder: OpusDecoder | null,
  corrupt: (what: string) => Error,
): Promise<{ format: AudioSampleFormat; data: Buffer; sampleRate: number; channels: number; concealed: false; offsetSamples: number }> {
  const channels = h.dim1 >>> 16;
  const samples = h.dim1 & 0xffff;
  const format = h.format === 1 ? 'f32le' : h.format === 0 ? 's16le' : null;
  if (h.frameType !== 'audio' || !format || (channels !== 1 && channels !== 2) || !AUDIO_RATES.includes(h.dim0) || samples !== h.dim0 / 50) throw corrupt('describes impossible audio');
  const d = decoder && decoder.sampleRate === h.dim0 && decoder.channels === channels ? decoder : new OpusDecoder(h.dim0, channels);
  const { data } = await d.decode(payload.subarray(h.bodyOffset, h.bodyOffset + h.bodyLength), format);
  if (data.length !== audioBytes(format, channels, samples)) throw new AicError('CORRUPT_PAYLOAD', 'Opus packet decoded to the wrong length; the payload is corrupt');
  return { format, data, sampleRate: h.dim0, channels, concealed: false, offsetSamples: -opusDelaySamples(h.dim0) };
}
