// Per-stream rate control of the audio path: steers the level of the next 20 ms frames from the
// measured score of what the receiver plays (audio frames are too short and too many to search
// within a frame).
import { Ema } from '../stats.js';

const UP_MARGIN = 0.03;
const DOWN_MARGIN = 0.08;

export class AudioRateController {
  readonly levels: number;
  level: number;
  #above = 0;
  #hold = 0;
  readonly score = new Ema(0.25);

  /**
   * `start`: the first frame's level (default the top: a stream's first words are judged before
   * anything is known of the speaker). Starting at the middle level was tried with aic-audio-v2
   * on VCTK and sent more frames losslessly (7.3 % against 1.6 %) for a higher mean rate.
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
      // sustained second, so the level does not hunt on every syllable.
      if (++this.#above >= 50 && this.level > 0) {
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
