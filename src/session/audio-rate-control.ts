// Per-stream rate control of the audio path: steers the level of the next 20 ms frames from the
// measured score of what the receiver plays (audio frames are too short and too many to search
// within a frame).
import { Ema } from '../stats.js';

const UP_MARGIN = 0.03;
const DOWN_MARGIN = 0.08;
// Frames in a row comfortably over the aim before a step down: 0.3 s (the 1 s window has moved by
// a third by then; a step too far is caught by the step up at aim + UP_MARGIN).
const DOWN_AFTER = 15;

export class AudioRateController {
  readonly levels: number;
  level: number;
  #above = 0;
  #hold = 0;
  readonly score = new Ema(0.25);

  /**
   * `start`: the first frame's level (default the top). Sessions start at the lowest level the
   * manifest predicts reaches the floor (levels[i].predictedScore, see audio-path.ts startLevel).
   */
  constructor(levels: number, start = levels - 1) {
    this.levels = levels;
    this.level = Math.max(0, Math.min(levels - 1, start));
  }

  /**
   * Learns the measured score of the receiver's latest audio and steers the next frame's level.
   * `active` is the share of the score window that held foreground sound: a pause says nothing
   * of how speech will fare, so it never lowers the level.
   */
  learn(score: number, aim: number, active = 1): void {
    if (!Number.isFinite(score)) return;
    this.score.add(score);
    if (this.#hold > 0) this.#hold--;
    if ((active < 0.3 || this.#hold > 0) && score >= aim) {
      this.#above = 0;
      return;
    }
    if (score < aim + UP_MARGIN) {
      // Near or under the aim: one level up at once. The score describes the last half second,
      // so acting at the aim itself would be late; the margin absorbs that lag.
      this.level = Math.min(this.levels - 1, this.level + 1);
      this.#above = 0;
    } else if (score > aim + DOWN_MARGIN) {
      // Comfortably over (by more than one level's step usually costs): step down after a
      // sustained 0.3 s, so that a stream reaches its level within half a second of its start
      // without hunting on every syllable.
      if (++this.#above >= DOWN_AFTER && this.level > 0) {
        this.level--;
        this.#above = 0;
      }
    } else {
      this.#above = 0;
    }
  }

  /** After lossless frames the score window holds exact audio for a while: no stepping down until it has passed. */
  holdFor(frames: number): void {
    this.#hold = Math.max(this.#hold, frames);
    this.#above = 0;
  }
}
