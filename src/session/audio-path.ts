// The audio path of a session: 20 ms frames through the streaming neural codec, the score of what
// the receiver plays (decoded exactly as it will decode, aligned by the codec's delay) steering the
// level, and the fallback when the model cannot hold the floor. The receiving side keeps the
// decoder stream of neural audio payloads and conceals lost ones.
import type { AudioScoreWindow } from '../../bindings.js';
import type { AudioCodec, AudioDecoder, AudioEncoder } from '../audio-codec.js';
import { AicError } from '../errors.js';
import type { AudioSampleFormat, CheckedFrame, FrameType } from '../frames.js';
import { native } from '../native.js';
import { AudioRateController } from './audio-rate-control.js';
import type { PathContext } from './context.js';
import { baseResult, losslessResult, now } from './fallback.js';
import type { CompressResult, DecompressedFrame, FallbackReason, FrameQuality, FrameSettings, FrameTimings, PayloadCodec } from './types.js';

// Audio quality is measured over the last second the receiver has played (one 20 ms frame is
// too little for a spectral measure to be stable: half a second proved noisy enough to double
// the fallbacks on real speech), updated frame by frame in C++.
const AUDIO_WINDOW_SECONDS = 1;
// Lossless run after the audio score falls under the floor at the top level: 1 s, so that a
// stream the model cannot serve does not switch back and forth (each switch costs 20 ms).
const AUDIO_LOSSLESS_RUN = 50;

export type AudioFrameIn = Extract<CheckedFrame, { type: 'audio' }>;

function toMono(bytes: Buffer, format: AudioSampleFormat, channels: number): Float32Array {
  const n = bytes.length / (format === 'f32le' ? 4 : 2) / channels;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) {
      const k = i * channels + c;
      s += format === 'f32le' ? bytes.readFloatLE(k * 4) : bytes.readInt16LE(k * 2) / 32768;
    }
    out[i] = s / channels;
  }
  return out;
}

/** Sender-side audio state of one stream format (rate, channels, sample format). */
interface AudioSendState {
  key: string;
  // The codec streams; they restart (on both sides) after a lossless frame.
  encoder: AudioEncoder | null;
  shadow: AudioDecoder | null;
  // What persists across restarts: the level controller and the score of what the receiver
  // plays against the input (aligned by the codec's delay; lossless frames enter it exactly).
  controller: AudioRateController;
  window: AudioScoreWindow;
  losslessRun: number;
  lowAtTop: number;
  // The codec streams were just (re)started after lossless frames: the first neural output
  // covers audio the receiver already has exactly.
  restarted: boolean;
}

interface AudioReceiveState {
  key: string;
  decoder: AudioDecoder;
  lastNeural: boolean;
}

export class AudioPath {
  readonly #ctx: PathContext;
  #send: AudioSendState | null = null;
  #receive: AudioReceiveState | null = null;

  constructor(ctx: PathContext) {
    this.#ctx = ctx;
  }

  /** The sender's level controller, once a frame has been coded. */
  get controller(): AudioRateController | null {
    return this.#send?.controller ?? null;
  }

  /** A receiver can conceal only after a neural payload. */
  get canConceal(): boolean {
    return !!this.#receive?.lastNeural;
  }

  clear(): void {
    this.#send = null;
    this.#receive = null;
  }

  #state(codec: AudioCodec, f: AudioFrameIn): AudioSendState {
    const key = `${f.sampleRate}/${f.channels}/${f.format}`;
    if (this.#send?.key !== key) {
      const { AudioScoreWindow: ScoreWindow } = native();
      this.#send = {
        key,
        encoder: null,
        shadow: null,
        controller: new AudioRateController(codec.levels),
        window: new ScoreWindow(f.sampleRate, AUDIO_WINDOW_SECONDS, codec.delaySamples(f.sampleRate)),
        losslessRun: 0,
        lowAtTop: 0,
        restarted: false,
      };
    }
    return this.#send;
  }

  /** An audio frame the receiver gets exactly: the codec streams restart after it. */
  async #lossless(state: AudioSendState | null, f: AudioFrameIn, sequence: number, settings: FrameSettings, reason: FallbackReason, timings?: Partial<FrameTimings>): Promise<CompressResult> {
    if (state) {
      state.restarted = state.encoder !== null || state.restarted;
      state.encoder = null;
      state.shadow = null;
      state.window.pushExact(toMono(f.bytes, f.format, f.channels));
      state.controller.holdFor(AUDIO_WINDOW_SECONDS * 50);
    }
    return losslessResult(f, sequence, settings, { fallback: true, compress: true, reason, ...(timings ? { timings } : {}) });
  }

  async compress(f: AudioFrameIn, sequence: number, settings: FrameSettings): Promise<CompressResult> {
    const o = this.#ctx.options;
    const codec = this.#ctx.host.audio();
    if (!codec) return losslessResult(f, sequence, settings, { fallback: true, compress: true, reason: 'model_unavailable' });
    const state = this.#state(codec, f);
    if (state.losslessRun > 0) {
      // Inside a lossless run (the model could not hold the floor at its top level).
      state.losslessRun--;
      return this.#lossless(state, f, sequence, settings, 'quality');
    }
    let payload: Buffer;
    let timings: FrameTimings;
    const level = state.controller.level;
    let measured: { score: number; siSnrDb: number; logMelDistanceDb: number; activeFraction: number } | null = null;
    try {
      state.encoder ??= codec.createEncoder(f.sampleRate, f.channels);
      state.shadow ??= codec.createDecoder();
      const encoded = await state.encoder.encode({ data: f.bytes, format: f.format }, { level, sequence, timestamp: f.timestamp ?? 0 });
      payload = encoded.payload;
      timings = { ...encoded.timings, totalMs: 0 };
      if (o.verifyQuality) {
        // Decode exactly as the receiver will, then score the last second it has played.
        const decoded = await state.shadow.decode(payload);
        const t = now();
        const reference = toMono(f.bytes, f.format, f.channels);
        // Right after a restart the codec's first output lies under audio the receiver already
        // played exactly (lossless frames come out one codec delay earlier than neural ones).
        measured = state.restarted ? state.window.pushExact(reference) : state.window.push(reference, toMono(decoded.data, f.format, f.channels));
        state.restarted = false;
        timings.inferenceMs += decoded.timings.inferenceMs;
        timings.postprocessMs += decoded.timings.preprocessMs + decoded.timings.postprocessMs + (now() - t);
      }
    } catch (error) {
      const e = AicError.from(error);
      if (e.code === 'INVALID_ARGUMENT') throw e;
      return this.#lossless(state, f, sequence, settings, e.code === 'CLOSED' ? 'model_unavailable' : 'error');
    }
    const quality: FrameQuality = measured
      ? { score: measured.score, siSnrDb: measured.siSnrDb, logMelDistanceDb: measured.logMelDistanceDb, verified: true }
      : { score: state.controller.score.known ? state.controller.score.value : NaN, verified: false };
    if (measured) {
      state.controller.learn(measured.score, settings.aim, measured.activeFraction);
      if (measured.score < settings.floor && o.enableFallback) {
        // Under the floor: this frame goes out exactly. When the level was already the top one
        // twice running, the content needs more than the model has: stay lossless for a while.
        state.lowAtTop = level === codec.levels - 1 ? state.lowAtTop + 1 : 0;
        if (state.lowAtTop >= 2) {
          state.losslessRun = AUDIO_LOSSLESS_RUN;
          state.lowAtTop = 0;
        }
        return this.#lossless(state, f, sequence, settings, 'quality', timings);
      }
    }
    return {
      ...baseResult(f, sequence, settings, payload),
      status: measured && measured.score < settings.floor ? 'quality_threshold_not_met' : 'success',
      codec: 'neural-audio',
      qualityLevel: level,
      quality,
      timings,
      passes: measured ? 1 : 0,
    };
  }


  receiver(header: { codec: PayloadCodec; dim0: number; dim1: number; format: number; frameType: FrameType }): AudioDecoder | null {
    const codec = this.#ctx.host.audio();
    if (header.frameType !== 'audio') return null;
    const key = `${header.dim0}/${header.dim1 >>> 16}/${header.format}`;
    const neural = header.codec === 'neural-audio';
    const r = this.#receive;
    if (!neural) {
      if (r) r.lastNeural = false;
      return null;
    }
    if (!codec) return null;
    if (!r || r.key !== key || !r.lastNeural) {
      this.#receive = { key, decoder: codec.createDecoder(), lastNeural: true };
    }
    return this.#receive!.decoder;
  }

  /** Audio receivers: a frame made up for a payload that never arrived (keeps the stream's timing). */
  async conceal(): Promise<DecompressedFrame> {
    const r = this.#receive;
    if (!r || !r.lastNeural) throw new AicError('INVALID_ARGUMENT', 'concealFrame() needs a neural audio payload decoded before it');
    const t = now();
    const d = await r.decoder.conceal();
    return {
      type: 'audio',
      format: d.format,
      data: d.data,
      sampleRate: d.sampleRate,
      channels: d.channels,
      timestamp: d.header.timestamp,
      sequence: d.header.sequence,
      keyframe: false,
      fallback: false,
      codec: 'neural-audio',
      qualityLevel: d.header.qualityLevel,
      concealed: true,
      offsetSamples: -(this.#ctx.host.audio()?.delaySamples(d.sampleRate) ?? 0),
      timings: { totalMs: now() - t },
    };
  }
}
