// The audio path of a session: 20 ms frames through the streaming neural codec, the score of what
// the receiver plays (decoded exactly as it will decode, aligned by the codec's delay) steering the
// level, and the fallback when the model cannot hold the floor (Opus at the bitrate that reaches
// it, audio-fallback.ts; lossless with fallbackCodec 'lossless'). A frame misses when the window's
// score is under the floor, when the per-frame checks find its own audio damaged (a band's level,
// the share of audible bins left empty over the whole band), or when the last second's share of
// empty audible bins is over its tolerance (native/core/audio/audio_metrics.h). The
// receiving side keeps the decoder streams of neural and Opus payloads and conceals lost ones.
import type { AudioScoreWindow, NativeAudioWindowMetrics } from '../../bindings.js';
import type { AudioCodec, AudioDecoder, AudioEncoder } from '../audio-codec.js';
import { AicError } from '../errors.js';
import type { CheckedFrame, FrameType } from '../frames.js';
import { native } from '../native/load.js';
import type { NetworkRecommendation } from '../network.js';
import { monoOf, OpusFallback, OpusReceiver } from './audio-fallback.js';
import { AudioRateController } from './audio-rate-control.js';
import type { PathContext } from './context.js';
import { losslessResult, now, resultOf } from './fallback.js';
import type { CompressResult, DecompressedFrame, FallbackReason, FrameQuality, FrameReduction, FrameSettings, FrameTimings, PayloadCodec } from './types.js';
import type { OpusDecoder } from '../conventional/opus.js';
import { opusDelaySamples } from '../conventional/opus.js';

// Audio quality is measured over the last second the receiver has played (one 20 ms frame is
// too little for a spectral measure to be stable: half a second proved noisy enough to double
// the fallbacks on real speech), updated frame by frame in C++.
const AUDIO_WINDOW_SECONDS = 1;
// Fallback run after the audio score falls under the floor at the top level: 0.5 s, so that a
// stream the model cannot serve does not switch back and forth on every frame (each switch
// restarts the neural streams), yet returns soon (VCTK: 1 s runs put 6.6 % of frames on Opus,
// 0.5 s runs 4.7 %, with the start level and step-down rules of audio-rate-control.ts).
const AUDIO_FALLBACK_RUN = 25;

export type AudioFrameIn = Extract<CheckedFrame, { type: 'audio' }>;

/** Sender-side audio state of one stream format (rate, channels, sample format). */
interface AudioSendState {
  key: string;
  sampleRate: number;
  channels: number;
  format: string;
  withModel: boolean;
  // The codec streams; they restart (on both sides) after a lossless frame.
  encoder: AudioEncoder | null;
  shadow: AudioDecoder | null;
  // What persists across restarts: the level controller and the score of what the receiver
  // plays against the input (aligned by the codec's delay; lossless frames enter it exactly).
  controller: AudioRateController;
  window: AudioScoreWindow;
  // The conventional fallback's streams (created at the first fallback frame).
  opus: OpusFallback | null;
  windowDelay: number;
  fallbackRun: number;
  lowAtTop: number;
  // The codec streams were just (re)started after lossless frames: the first neural output
  // covers audio the receiver already has exactly.
  restarted: boolean;
  // Silence descriptors in a row (dtx): the first and every DTX_INTERVAL-th must be sent.
  silenceRun: number;
}

// With dtx, one silence descriptor in this many of a run is sent (400 ms, as Opus's DTX).
const DTX_INTERVAL = 20;

/** Whether a neural audio payload is a silence descriptor (docs/bitstream.md, "Silence descriptors"). */
export function isSilenceDescriptor(p: Buffer): boolean {
  if (p.length > 1 && p[0]! >= 0xa5 && p[0]! <= 0xa7) return (p[1]! & 0x10) !== 0;  // the short and compact forms
  return p.length > 8 && (p[8]! & 8) !== 0;
}

interface AudioReceiveState {
  key: string;
  decoder: AudioDecoder | null;
  lastNeural: boolean;
}

export class AudioPath {
  readonly #ctx: PathContext;
  #send: AudioSendState | null = null;
  #receive: AudioReceiveState | null = null;
  #opusReceive = new OpusReceiver();
  // The last audio payload received was Opus: its stream, for concealFrame() (libopus's concealment).
  #lastOpus: { decoder: OpusDecoder; format: 's16le' | 'f32le'; sequence: number; timestamp: number; qualityLevel: number } | null = null;

  constructor(ctx: PathContext) {
    this.#ctx = ctx;
  }

  /** The sender's level controller, once a frame has been coded. */
  get controller(): AudioRateController | null {
    return this.#send?.controller ?? null;
  }

  /** A receiver can conceal after a neural or an Opus payload (not after a lossless one). */
  get canConceal(): boolean {
    return !!this.#receive?.lastNeural || this.#lastOpus !== null;
  }

  clear(): void {
    this.#send = null;
    this.#receive = null;
    this.#opusReceive = new OpusReceiver();
    this.#lastOpus = null;
  }

  #state(codec: AudioCodec | null, f: AudioFrameIn, floor: number): AudioSendState {
    const s = this.#send;
    // The stream's format unchanged (every frame but the first, as a rule): no key to build.
    if (s && s.sampleRate === f.sampleRate && s.channels === f.channels && s.format === f.format && s.withModel === !!codec) return s;
    const key = `${f.sampleRate}/${f.channels}/${f.format}/${codec ? 'model' : 'none'}`;
    if (this.#send?.key !== key) {
      const { AudioScoreWindow: ScoreWindow } = native();
      const windowDelay = codec ? codec.delaySamples(f.sampleRate) : opusDelaySamples(f.sampleRate);
      this.#send = {
        key,
        sampleRate: f.sampleRate,
        channels: f.channels,
        format: f.format,
        withModel: !!codec,
        encoder: null,
        shadow: null,
        controller: new AudioRateController(codec?.levels ?? 1, codec ? startLevel(codec, floor) : 0),
        window: new ScoreWindow(f.sampleRate, AUDIO_WINDOW_SECONDS, windowDelay),
        opus: null,
        windowDelay,
        fallbackRun: 0,
        lowAtTop: 0,
        restarted: false,
        silenceRun: 0,
      };
    }
    return this.#send;
  }

  /** An audio frame the receiver gets exactly: the codec streams restart after it. */
  async #lossless(state: AudioSendState | null, f: AudioFrameIn, sequence: number, settings: FrameSettings, reason: FallbackReason, timings?: Partial<FrameTimings>): Promise<CompressResult> {
    if (state) {
      this.#leaveNeural(state);
      state.opus?.leave();
      state.window.pushExact(monoOf(f.bytes, f.format, f.channels));
    }
    return losslessResult(f, sequence, settings, { fallback: true, compress: true, reason, ...(timings ? { timings } : {}) });
  }

  /** The neural streams restart (on both sides) after a frame that is not neural. */
  #leaveNeural(state: AudioSendState): void {
    state.silenceRun = 0;
    state.restarted = state.encoder !== null || state.restarted;
    state.encoder = null;
    state.shadow = null;
    state.controller.holdFor(AUDIO_WINDOW_SECONDS * 50);
  }

  /**
   * A frame the neural path does not serve (the window holds nothing of it yet): Opus at the
   * bitrate that reaches the floor, or lossless (fallbackCodec 'lossless', or when lossless is no
   * larger, or when even Opus's top bitrate misses and the link has room for the frame's bytes).
   */
  async #fallback(state: AudioSendState, f: AudioFrameIn, sequence: number, settings: FrameSettings, reason: FallbackReason, rec: NetworkRecommendation | null, timings?: Partial<FrameTimings>): Promise<CompressResult> {
    const o = this.#ctx.options;
    // Lossless on request, or for a peer that does not decode Opus.
    if (o.fallbackCodec === 'lossless' || !this.#ctx.accepts('opus')) return this.#lossless(state, f, sequence, settings, reason, timings);
    state.opus ??= new OpusFallback(f.sampleRate, f.channels, state.windowDelay);
    this.#leaveNeural(state);
    state.window.mark();
    const coded = await state.opus.code(f, sequence, settings, reason, state.window, o.verifyQuality, rec);
    if ('lossless' in coded) return this.#lossless(state, f, sequence, settings, coded.reason, timings);
    const r = coded.result;
    {
      // Lossless when it is no larger (silence, a frame deflate serves better).
      const lossless = await losslessResult(f, sequence, settings, { fallback: true, compress: true, reason });
      if (lossless.payload.length <= r.payload.length) {
        state.window.rewind();
        return this.#lossless(state, f, sequence, settings, reason, timings);
      }
    }
    if (timings) {
      r.timings.inferenceMs += timings.inferenceMs ?? 0;
      r.timings.preprocessMs += timings.preprocessMs ?? 0;
      r.timings.postprocessMs += timings.postprocessMs ?? 0;
    }
    return r;
  }

  async compress(f: AudioFrameIn, sequence: number, settings: FrameSettings, rec: NetworkRecommendation | null = null): Promise<CompressResult> {
    const o = this.#ctx.options;
    const codec = this.#ctx.host.audio();
    const state = this.#state(codec, f, settings.floor);
    // No model here, or none the peer decodes: the ladder carries the stream.
    if (!codec || !this.#ctx.accepts('neural-audio', codec.modelId)) return this.#fallback(state, f, sequence, settings, 'model_unavailable', rec);
    if (state.fallbackRun > 0) {
      // Inside a fallback run (the model could not hold the floor at its top level).
      state.fallbackRun--;
      return this.#fallback(state, f, sequence, settings, 'quality', rec);
    }
    let payload: Buffer;
    let timings: FrameTimings;
    const level = state.controller.level;
    let measured: NativeAudioWindowMetrics | null = null;
    try {
      state.encoder ??= codec.createEncoder(f.sampleRate, f.channels);
      state.shadow ??= codec.createDecoder();
      if (o.verifyQuality) {
        // One native call off the JS thread: encode, decode exactly as the receiver will, and
        // score the last second it has played. Right after a restart the codec's first output
        // lies under audio the receiver already played exactly (lossless frames come out one
        // codec delay earlier than neural ones): that frame enters the window as exact.
        const step = await state.encoder.encodeAndScore({ data: f.bytes, format: f.format }, { level, sequence, timestamp: f.timestamp ?? 0, dtx: o.dtx }, state.shadow, state.window, state.restarted);
        payload = step.payload;
        measured = step.measured;
        state.restarted = false;
        const e = step.timings, d = step.decodeTimings;
        timings = { preprocessMs: e.preprocessMs, inferenceMs: e.inferenceMs + d.inferenceMs, postprocessMs: e.postprocessMs + d.preprocessMs + d.postprocessMs, totalMs: 0 };
      } else {
        const encoded = await state.encoder.encode({ data: f.bytes, format: f.format }, { level, sequence, timestamp: f.timestamp ?? 0, dtx: o.dtx });
        payload = encoded.payload;
        timings = { ...encoded.timings, totalMs: 0 };
      }
    } catch (error) {
      const e = AicError.from(error);
      if (e.code === 'INVALID_ARGUMENT') throw e;
      return this.#fallback(state, f, sequence, settings, e.code === 'CLOSED' ? 'model_unavailable' : 'error', rec);
    }
    const quality: FrameQuality = measured
      ? { score: measured.score, siSnrDb: measured.siSnrDb, logMelDistanceDb: measured.logMelDistanceDb, worstBandErrorDb: measured.worstBandErrorDb, holeFraction: measured.holeFraction, windowHoleFraction: measured.windowHoleFraction, windowBandLoss: measured.windowBandLoss, verified: true }
      : { score: state.controller.score.known ? state.controller.score.value : NaN, verified: false };
    // A frame misses when the window's score is under the floor, its own audio is damaged (the
    // band check, the spectral holes), or the last second leaves too many audible bins empty.
    const damaged = !!measured && (measured.frameMiss || measured.windowHoleMiss);
    const miss = !!measured && (measured.score < settings.floor || damaged);
    if (measured) {
      state.controller.learn(damaged ? Math.min(measured.score, settings.floor - 0.01) : measured.score, settings.aim, measured.activeFraction);
      if (miss && o.enableFallback) {
        // The frame goes out through the fallback. When the level was already the top one twice
        // running, the content needs more than the model has: stay on the fallback for a while.
        state.lowAtTop = level === codec.levels - 1 ? state.lowAtTop + 1 : 0;
        if (state.lowAtTop >= 2) {
          state.fallbackRun = AUDIO_FALLBACK_RUN;
          state.lowAtTop = 0;
        }
        state.window.rewind();
        return this.#fallback(state, f, sequence, settings, 'quality', rec, timings);
      }
    }
    state.opus?.leave();
    const result = resultOf(f, sequence, settings, payload, {
      status: miss ? 'quality_threshold_not_met' : 'success',
      codec: 'neural-audio',
      qualityLevel: level,
      quality,
      timings,
      passes: measured ? 1 : 0,
      reductions: neuralReductions(codec, f),
    });
    if (o.dtx && isSilenceDescriptor(payload)) {
      result.silence = true;
      result.mayDrop = state.silenceRun++ % DTX_INTERVAL !== 0;
    } else {
      state.silenceRun = 0;
    }
    return result;
  }

  receiver(header: { codec: PayloadCodec; dim0: number; dim1: number; format: number; frameType: FrameType; keyframe: boolean; sequence?: number; timestamp?: number; qualityLevel?: number }): AudioDecoder | OpusDecoder | null {
    const codec = this.#ctx.host.audio();
    if (header.frameType !== 'audio') return null;
    const key = `${header.dim0}/${header.dim1 >>> 16}/${header.format}`;
    const neural = header.codec === 'neural-audio';
    const r = this.#receive;
    this.#lastOpus = null;
    if (!neural) {
      if (r) r.lastNeural = false;
      // Opus payloads: one decoder stream per stream format; a keyframe (a switch into Opus) restarts it.
      if (header.codec === 'opus') {
        const decoder = this.#opusReceive.decoder(header.dim0, header.dim1 >>> 16, header.keyframe);
        this.#lastOpus = { decoder, format: header.format === 1 ? 'f32le' : 's16le', sequence: header.sequence ?? 0, timestamp: header.timestamp ?? 0, qualityLevel: header.qualityLevel ?? 0 };
        return decoder;
      }
      return null;
    }
    if (!codec) return null;
    if (!r || r.key !== key || !r.lastNeural || !r.decoder) {
      this.#receive = { key, decoder: codec.createDecoder(), lastNeural: true };
    }
    return this.#receive!.decoder;
  }

  /** Audio receivers: a frame made up for a payload that never arrived (keeps the stream's timing). */
  async conceal(): Promise<DecompressedFrame> {
    const r = this.#receive;
    const opus = this.#lastOpus;
    if (opus && !r?.lastNeural) {
      // After an Opus payload: libopus's own concealment, on the Opus stream's timeline.
      const t = now();
      const d = await opus.decoder.conceal(opus.format);
      opus.sequence = (opus.sequence + 1) >>> 0;
      opus.timestamp += 20000;
      return {
        type: 'audio',
        format: opus.format,
        data: d.data,
        sampleRate: opus.decoder.sampleRate,
        channels: opus.decoder.channels,
        timestamp: opus.timestamp,
        sequence: opus.sequence,
        keyframe: false,
        fallback: false,
        codec: 'opus',
        qualityLevel: opus.qualityLevel,
        concealed: true,
        offsetSamples: -opusDelaySamples(opus.decoder.sampleRate),
        timings: { totalMs: now() - t },
      };
    }
    if (!r || !r.lastNeural) throw new AicError('INVALID_ARGUMENT', 'concealFrame() needs a neural audio or Opus payload decoded before it');
    const t = now();
    const d = await r.decoder!.conceal();
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
      ...(d.comfortNoise ? { comfortNoise: true } : {}),
      offsetSamples: -(this.#ctx.host.audio()?.delaySamples(d.sampleRate) ?? 0),
      timings: { totalMs: now() - t },
    };
  }
}

/**
 * The level a stream starts at: the lowest whose score the manifest predicts (levels[i].predictedScore,
 * measured by training/audio/predict_scores.mjs) reaches the floor with a margin; the top level when the
 * manifest predicts none.
 */
export function startLevel(codec: AudioCodec, floor: number): number {
  const levels = codec.manifest.levels as Array<{ predictedScore?: number }>;
  // 0.05: the predictions come from one reader (LJ Speech); other voices score lower at the same
  // level. With aic-audio-v2 2.1.0, 0.03 started VCTK p225 at level 3 (predicted 0.881), which
  // missed at its first onset after a pause (evaluation speech: a margin set with it in view).
  const margin = 0.05;
  if (!levels.every((l) => typeof l.predictedScore === 'number')) return codec.levels - 1;
  for (let l = 0; l < levels.length; l++) if (levels[l]!.predictedScore! >= floor + margin) return l;
  return codec.levels - 1;
}

/**
 * What a neural frame leaves out: the band above the model's Nyquist for input above its rate,
 * unless the model codes that band parametrically (spectralFill: the high band, docs/audio-codec.md).
 */
function neuralReductions(codec: AudioCodec, f: AudioFrameIn): FrameReduction[] {
  const modelRate = codec.manifest.audio.sampleRate;
  if (f.sampleRate <= modelRate || codec.manifest.spectralFill) return [];
  return [{ kind: 'bandwidth', detail: `audio above ${modelRate / 2000} kHz is not coded (the model runs at ${modelRate / 1000} kHz)` }];
}
