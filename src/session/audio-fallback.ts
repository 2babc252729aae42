// The audio fallback ladder's conventional step: a frame the neural path cannot serve goes out as
// Opus (20 ms, VOIP, VBR) at the lowest bitrate of OPUS_LADDER_KBPS whose reconstruction reaches
// the floor, measured with the same score window as neural frames (the per-frame band check
// included; when the window is under the floor because of what was already played, the lowest
// bitrate that costs it next to nothing against an exact frame). Each try is coded on a saved copy of the encoder, the shadow decoder and the score
// window, rewound when the try misses. A lossless payload goes instead when it is no larger
// (digital silence, tiny frames); when even the top bitrate misses, lossless when the link has
// room for it, else the best-scoring Opus payload with status 'quality_threshold_not_met'.
import type { AudioScoreWindow, NativeAudioWindowMetrics } from '../../bindings.js';
import { OPUS_LADDER_KBPS, OpusDecoder, OpusEncoder, opusKbps } from '../conventional/opus.js';
import { callNative } from '../errors.js';
import { SAMPLE_FORMAT_CODE, type CheckedFrame } from '../frames.js';
import { native } from '../native/load.js';
import type { NetworkRecommendation } from '../network.js';
import { resultOf, now } from './fallback.js';
import type { CompressResult, FallbackReason, FrameReduction, FrameSettings } from './types.js';

type AudioFrameIn = Extract<CheckedFrame, { type: 'audio' }>;

/** Frames in a row comfortably over the aim before the Opus bitrate steps down. */
const OPUS_DOWN_AFTER = 10;
/** Comfortably over: the window's score this far over the aim. */
const OPUS_DOWN_MARGIN = 0.05;
/** Tries per frame (each one encode, one decode and one window update). */
const OPUS_MAX_TRIES = 4;
/**
 * When the window is under the floor because of audio already played (a second of it), no single
 * frame can lift it: a try is then good when it costs the window at most this much score against
 * sending the frame exactly (about what 24 kbit/s Opus costs on speech, a third of what 8 kbit/s does).
 */
const OPUS_MARGINAL = 0.003;

export function monoOf(bytes: Buffer, format: 's16le' | 'f32le', channels: number): Float32Array {
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

/** The audio band an Opus packet codes, from its TOC byte (RFC 6716 section 3.1), in Hz. */
export function opusBandHz(toc: number): number {
  const config = toc >> 3;
  if (config < 12) return [4000, 6000, 8000][config >> 2]!;
  if (config < 16) return config < 14 ? 12000 : 20000;
  return [4000, 8000, 12000, 20000][(config - 16) >> 2]!;
}

function kHz(hz: number): string {
  return `${Number((hz / 1000).toFixed(1))} kHz`;
}

/** Sender-side Opus state of one stream format. */
export class OpusFallback {
  readonly #encoder: OpusEncoder;
  readonly #shadow: OpusDecoder;
  readonly #channels: number;
  readonly #rate: number;
  /** How far the score window's decoded stream trails its input (the neural codec's delay). */
  readonly #windowDelay: number;
  /** Opus output not yet in the score window (it trails the input by less than the window does). */
  #pending: Float32Array = new Float32Array(0);
  #active = false;
  step: number;
  #over = 0;

  constructor(rate: number, channels: number, windowDelay: number) {
    this.#rate = rate;
    this.#channels = channels;
    this.#encoder = new OpusEncoder(rate, channels, 'voip');
    this.#shadow = new OpusDecoder(rate, channels);
    this.#windowDelay = windowDelay;
    // Speech at 24 kbit/s per channel scores about 0.95 (docs/audio-codec.md): a start that
    // usually reaches an adaptive floor with one try.
    this.step = OPUS_LADDER_KBPS.indexOf(24);
  }

  get delaySamples(): number {
    return this.#encoder.delaySamples;
  }

  /** The stream left Opus (a neural or lossless frame went out): the next Opus frame restarts both ends. */
  leave(): void {
    this.#active = false;
  }

  /**
   * One frame through the ladder. `window` has been marked by the caller: every try rewinds it.
   * Returns the payload and its measures; `lossless` when the caller should send the frame
   * losslessly instead (and push it exactly into the window).
   */
  async code(
    f: AudioFrameIn,
    sequence: number,
    settings: FrameSettings,
    reason: FallbackReason,
    window: AudioScoreWindow,
    verify: boolean,
    rec: NetworkRecommendation | null,
  ): Promise<{ result: CompressResult; measured: NativeAudioWindowMetrics | null } | { lossless: true; reason: FallbackReason; notMet: boolean }> {
    const t0 = now();
    const restart = !this.#active;
    if (restart) {
      this.#encoder.reset();
      this.#shadow.reset();
      // The gap between the last frame the receiver played and this stream's first output is
      // counted as exact (as after a lossless frame).
      this.#pending = new Float32Array(Math.max(0, this.#windowDelay - this.delaySamples));
    }
    const exactPrefix = restart ? this.#pending.length : 0;
    const reference = monoOf(f.bytes, f.format, f.channels);
    this.#encoder.mark();
    this.#shadow.mark();
    const pendingBefore = this.#pending;
    // What the window would score with this frame exact (the best any payload can do).
    let exact = 1;
    if (verify) {
      exact = callNative(() => window.pushExact(reference)).score;
      window.rewind();
    }
    const good = (m: NativeAudioWindowMetrics | null) => !m || (!m.frameMiss && (m.score >= settings.floor || m.score >= exact - OPUS_MARGINAL));
    let best: { packet: Buffer; step: number; m: NativeAudioWindowMetrics | null; pending: Float32Array } | null = null as { packet: Buffer; step: number; m: NativeAudioWindowMetrics | null; pending: Float32Array } | null;
    let tries = 0;
    let inferenceMs = 0;
    let step = this.step;
    // No Opus rate at which a packet could outgrow the frame stored as it is (8 kHz mono s16le is
    // 128 kbit/s raw): such a frame goes lossless instead, which is then no larger.
    const rawKbps = (f.bytes.length * 8 * 50) / 1000;
    const rate = (st: number) => Math.min(opusKbps(st, this.#channels), Math.floor(0.75 * rawKbps));
    for (;;) {
      tries++;
      const kbps = rate(step);
      let packet: Buffer;
      let m: NativeAudioWindowMetrics | null = null;
      let pending = pendingBefore;
      if (verify) {
        // Encode, shadow decode and score in one native job.
        const t = await this.#encoder.tryScored(f.bytes, f.format, kbps, this.#shadow, window, pendingBefore, exactPrefix);
        packet = t.packet;
        inferenceMs += t.ms;
        m = t.measured;
        pending = t.pending;
      } else {
        const e = await this.#encoder.encode(f.bytes, f.format, kbps);
        packet = e.packet;
        inferenceMs += e.ms;
      }
      const ok = good(m);
      if (!best || !m || !best.m || m.score - (m.frameMiss ? 1 : 0) > best.m.score - (best.m.frameMiss ? 1 : 0)) best = { packet, step, m, pending };
      if (ok || step >= OPUS_LADDER_KBPS.length - 1 || tries >= OPUS_MAX_TRIES) {
        if (ok) best = { packet, step, m, pending };
        break;
      }
      // Missed: rewind the streams and the window, and try higher (two steps when far under).
      this.#encoder.rewind();
      this.#shadow.rewind();
      window.rewind();
      step = Math.min(OPUS_LADDER_KBPS.length - 1, step + (m && m.score < settings.floor - 0.1 ? 2 : 1));
    }
    const met = good(best.m);
    if (!met) {
      // Even the best Opus misses the floor: lossless when the link has room for it.
      const losslessKbps = (f.bytes.length * 8 * 50) / 1000;
      if (!rec || losslessKbps <= rec.maxBitrateKbps) {
        this.#encoder.rewind();
        this.#shadow.rewind();
        window.rewind();
        this.#active = false;
        this.step = OPUS_LADDER_KBPS.length - 1;
        return { lossless: true, reason, notMet: false };
      }
    }
    // The try kept must be the one the streams and the window hold: re-run it when it was not the last.
    if (best.step !== step) {
      this.#encoder.rewind();
      this.#shadow.rewind();
      window.rewind();
      const t = await this.#encoder.tryScored(f.bytes, f.format, rate(best.step), this.#shadow, window, pendingBefore, exactPrefix);
      best = { packet: t.packet, step: best.step, m: t.measured, pending: t.pending };
    }
    if (best.packet.length > f.bytes.length) {
      // A packet over the stored frame (VBR overshoot on a tiny frame): undo it, send it exactly.
      this.#encoder.rewind();
      this.#shadow.rewind();
      window.rewind();
      this.#active = false;
      return { lossless: true, reason, notMet: false };
    }
    this.#pending = best.pending;
    this.#active = true;
    // Steer: start the next frame where this one ended; step down after a sustained margin.
    this.step = best.step;
    if (met && tries === 1 && best.m && best.m.score > settings.aim + OPUS_DOWN_MARGIN && !best.m.frameMiss) {
      if (++this.#over >= OPUS_DOWN_AFTER && this.step > 0) {
        this.step--;
        this.#over = 0;
      }
    } else {
      this.#over = 0;
    }
    const kbps = rate(best.step);
    const payload = callNative(() =>
      native().packPayload(
        {
          frameType: 'audio',
          codec: 'opus',
          keyframe: restart,
          fallback: true,
          qualityLevel: kbps,
          format: SAMPLE_FORMAT_CODE[f.format],
          modelId: 0,
          sequence,
          dim0: f.sampleRate,
          dim1: (f.channels << 16) | f.samplesPerChannel,
          timestamp: f.timestamp ?? 0,
        },
        best.packet,
      ),
    );
    const band = opusBandHz(best.packet[0]!);
    const reductions: FrameReduction[] = band < Math.min(20000, f.sampleRate / 2) ? [{ kind: 'bandwidth', detail: `audio above ${kHz(band)} is not coded (Opus at ${kbps} kbit/s codes a ${kHz(band)} band)` }] : [];
    const m = best.m;
    return {
      measured: m,
      result: resultOf(f, sequence, settings, payload, {
        // A try kept because no payload could lift a window already under the floor is the best
        // there is, but the receiver's last second is still under it: said so.
        status: met && (!m || m.score >= settings.floor) ? 'fallback' : 'quality_threshold_not_met',
        fallbackReason: reason,
        codec: 'opus',
        qualityLevel: kbps,
        quality: m ? { score: m.score, siSnrDb: m.siSnrDb, logMelDistanceDb: m.logMelDistanceDb, worstBandErrorDb: m.worstBandErrorDb, holeFraction: m.holeFraction, windowHoleFraction: m.windowHoleFraction, windowBandLoss: m.windowBandLoss, verified: true } : { score: NaN, verified: false },
        timings: { preprocessMs: 0, inferenceMs, postprocessMs: now() - t0 - inferenceMs, totalMs: 0 },
        passes: tries,
        reductions,
      }),
    };
  }
}

/** Receiver-side Opus state: one decoder per stream format, restarted by keyframes (a switch into Opus). */
export class OpusReceiver {
  #key = '';
  #decoder: OpusDecoder | null = null;

  decoder(rate: number, channels: number, keyframe: boolean): OpusDecoder {
    const key = `${rate}/${channels}`;
    if (!this.#decoder || this.#key !== key) {
      this.#decoder = new OpusDecoder(rate, channels);
      this.#key = key;
    } else if (keyframe) {
      this.#decoder.reset();
    }
    return this.#decoder;
  }
}

