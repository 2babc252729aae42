// Per-session rate control. The image controller learns, for the session's content, the score
// (SSIM) and the size (bits per pixel) of every quality level from the frames it has measured,
// and plans each frame's closed-loop search (native/core/image/image_search.h) to start at the lowest
// level predicted to reach the aim, so that most frames need one decode-and-score pass. It also
// learns how long the network takes per megapixel, to predict a frame's latency before spending it.
// The audio controller lives in session/audio-rate-control.ts.
import type { NativeImageSearchPass } from '../bindings.js';
import { Ema } from './stats.js';

/** Safety margin over the aim for the start level: cheap insurance against a scene change. */
const START_MARGIN = 0.004;
/** A level not measured for this many frames is worth re-measuring when the search can afford it. */
const STALE_FRAMES = 24;
/** A measured score this far from the prediction means the content changed. */
const CONTENT_CHANGE = 0.04;

export interface SearchPlan {
  startLevel: number;
  probeDown: boolean;
  /** With bisect: startLevel comes from the engine's prior, bracketed first. */
  hinted: boolean;
  /** Nothing is known of this content: bisect the levels (down as well as up) instead of walking from startLevel. */
  bisect: boolean;
  maxPasses: number;
  /** Predicted score of the start level (NaN when nothing is known yet). */
  predictedScore: number;
}

interface LevelState {
  score: Ema;
  bpp: Ema;
  lastFrame: number;
  /** The frame this level's score was last measured on (open-loop frames measure nothing). */
  lastMeasured: number;
}

/** A measurement this many frames after the last one of its level replaces the estimate (the content has moved on). */
const SPARSE_FRAMES = 5;

export class ImageRateController {
  readonly levels: number;
  readonly #state: LevelState[];
  #frame = 0;
  // The content is unknown (no frame yet, or the last one missed its prediction by far).
  #unknown = true;
  // The level estimates came from the engine's prior, not this session's frames.
  #seeded = false;
  // Milliseconds per megapixel of the encoder (with pre-processing) and of one search pass.
  readonly encodeMsPerMp = new Ema(0.2);
  readonly passMsPerMp = new Ema(0.2);
  readonly passesPerFrame = new Ema(0.1);
  /** How far measured scores land from the prediction made before them (a margin for unmeasured frames). */
  readonly predictionError = new Ema(0.3);
  // Milliseconds per megapixel of the open loop (the encoder and the coding of one level).
  readonly openLoopMsPerMp = new Ema(0.3);

  constructor(levels: number) {
    this.levels = levels;
    this.#state = Array.from({ length: levels }, () => ({ score: new Ema(0.3), bpp: new Ema(0.3), lastFrame: -Infinity, lastMeasured: -Infinity }));
  }

  /** Starts from what the engine learnt on other sessions of this kind of content (image-prior.ts). */
  seed(prior: readonly { score: Ema; bpp: Ema }[]): void {
    prior.forEach((p, level) => {
      const s = this.#state[level];
      if (!s) return;
      if (p.score.known) s.score.set(p.score.value);
      if (p.bpp.known) s.bpp.set(p.bpp.value);
    });
    this.#seeded = prior.some((p) => p.score.known);
  }

  get framesSeen(): number {
    return this.#frame;
  }

  /**
   * A level's learnt value, or one made from the nearest learnt levels below and above it:
   * `between` when both exist, `step` (from one side, by level distance; negative below) when one does.
   */
  #estimate(level: number, pick: (s: LevelState) => Ema, between: (lo: number, hi: number, f: number) => number, step: (v: number, levels: number) => number): number {
    if (pick(this.#state[level]!).known) return pick(this.#state[level]!).value;
    let lo = level - 1;
    while (lo >= 0 && !pick(this.#state[lo]!).known) lo--;
    let hi = level + 1;
    while (hi < this.levels && !pick(this.#state[hi]!).known) hi++;
    const loV = lo >= 0 ? pick(this.#state[lo]!).value : NaN;
    const hiV = hi < this.levels ? pick(this.#state[hi]!).value : NaN;
    if (!Number.isNaN(loV) && !Number.isNaN(hiV)) return between(loV, hiV, (level - lo) / (hi - lo));
    if (!Number.isNaN(loV)) return step(loV, level - lo);
    if (!Number.isNaN(hiV)) return step(hiV, level - hi);
    return NaN;
  }

  /** Predicted score of a level (SSIM rises ~0.02-0.04 per level; 0.03 is assumed past the learnt ones). */
  predictScore(level: number): number {
    return this.#estimate(
      level,
      (s) => s.score,
      (lo, hi, f) => lo + (hi - lo) * f,
      (v, d) => Math.min(1, Math.max(0, v + 0.03 * d)),
    );
  }

  /** Predicted payload bits per pixel of a level (levels of models/aic-image-v1 are ~1.4x apart in rate). */
  predictBpp(level: number): number {
    return this.#estimate(
      level,
      (s) => s.bpp,
      (lo, hi, f) => Math.exp(Math.log(lo) + (Math.log(hi) - Math.log(lo)) * f),
      (v, d) => v * 1.4 ** d,
    );
  }

  /** A cautious margin for a score that will not be measured: twice the typical prediction error, at least 0.01. */
  get openLoopMargin(): number {
    return Math.max(0.01, 2 * (this.predictionError.known ? this.predictionError.value : 0.01));
  }

  /** The lowest level predicted to reach `aim`, the top level when none is, the middle level when nothing is known. */
  levelFor(aim: number): number {
    let any = false;
    for (let l = 0; l < this.levels; l++) {
      const p = this.predictScore(l);
      if (Number.isNaN(p)) continue;
      any = true;
      if (p >= aim + START_MARGIN) return l;
    }
    return any ? this.levels - 1 : Math.floor(this.levels / 2);
  }

  plan(aim: number, passBudget: number): SearchPlan {
    if (this.#unknown) {
      // ceil(log2(levels)) + 1 passes find the lowest level that reaches the aim on any content.
      const passes = Math.ceil(Math.log2(this.levels)) + 1;
      const hinted = this.#seeded && this.#frame === 0;
      return { startLevel: this.levelFor(aim), probeDown: false, bisect: true, hinted, maxPasses: passes + (hinted ? 1 : 0), predictedScore: NaN };
    }
    const startLevel = this.levelFor(aim);
    const maxPasses = Math.max(1, Math.min(3, Math.floor(passBudget)));
    // Look one level down when that level's figure is stale (the content may have become easier).
    const below = startLevel - 1;
    const probeDown = maxPasses > 1 && below >= 0 && this.#frame - this.#state[below]!.lastFrame >= STALE_FRAMES;
    return { startLevel, probeDown, bisect: false, hinted: false, maxPasses, predictedScore: this.predictScore(startLevel) };
  }

  /** Learns from the passes of one frame of `pixels` pixels and its timings. */
  learn(passes: readonly NativeImageSearchPass[], pixels: number, encodeMs: number): void {
    this.#frame++;
    if (passes.some((p) => p.ssim > 0 || p.psnr > 0)) this.#unknown = false;
    const mp = pixels / 1e6;
    if (mp > 0) this.encodeMsPerMp.add(encodeMs / mp);
    let passMs = 0;
    for (const p of passes) {
      const s = this.#state[p.level]!;
      if (p.ssim > 0 || p.psnr > 0) {
        // A large miss means the content changed: move every level's estimate by the same amount,
        // so the next frame starts from the new content instead of walking there level by level.
        const predicted = this.predictScore(p.level);
        if (!Number.isNaN(predicted)) this.predictionError.add(Math.abs(p.ssim - predicted));
        if (!Number.isNaN(predicted) && Math.abs(p.ssim - predicted) > CONTENT_CHANGE) {
          const shift = p.ssim - predicted;
          // A miss of twice that: the next frame searches the levels afresh.
          if (Math.abs(shift) > 2 * CONTENT_CHANGE) this.#unknown = true;
          for (const other of this.#state) if (other.score.known) other.score.set(Math.min(1, Math.max(0, other.score.value + shift)));
          s.score.set(p.ssim);
        } else if (this.#frame - s.lastMeasured > SPARSE_FRAMES) {
          // Measured rarely (a session on the open loop probes every 30th frame): the newest
          // measurement is the best estimate, not a 30 % step towards it.
          s.score.set(p.ssim);
        } else {
          s.score.add(p.ssim);
        }
        s.lastMeasured = this.#frame;
        passMs += p.decodeMs + p.scoreMs;
      }
      s.bpp.add((p.bytes * 8) / Math.max(1, pixels));
      s.lastFrame = this.#frame;
    }
    const measured = passes.filter((p) => p.ssim > 0 || p.psnr > 0).length;
    if (measured > 0 && mp > 0) this.passMsPerMp.add(passMs / measured / mp);
    this.passesPerFrame.add(measured);
  }

  /** Predicted milliseconds of the neural path for a frame (NaN when nothing is known). */
  predictMs(pixels: number, passes: number): number {
    if (!this.encodeMsPerMp.known) return NaN;
    const mp = pixels / 1e6;
    return mp * (this.encodeMsPerMp.value + passes * (this.passMsPerMp.known ? this.passMsPerMp.value : this.encodeMsPerMp.value));
  }

  /** How many search passes fit in `budgetMs` after the encoder. */
  passBudget(pixels: number, budgetMs: number): number {
    if (!this.encodeMsPerMp.known || !this.passMsPerMp.known) return 2;
    const mp = pixels / 1e6;
    return (budgetMs - mp * this.encodeMsPerMp.value) / Math.max(1e-6, mp * this.passMsPerMp.value);
  }
}
