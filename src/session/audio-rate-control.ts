// Per-stream rate control of the audio path: steers the level of the next 20 ms frames from the
// measured score of what the receiver plays (audio frames are too short and too many to search
// within a frame).
import { Ema } from '../stats.js';

const UP_MARGIN = 0.03;
const DOWN_MARGIN = 0.08;
// Frames in a row comfortably over the aim before a step down. In a stream's first half second,
// 5 (0.1 s): the start level is a prediction from the manifest, and the stream should reach its
// own level within 0.5 s. After that, 1 s, so the level does not hunt on every syllable: each
// miss goes to the fallback codec and restarts the neural streams, which costs more than a
// level's worth of bits (VCTK: 0.3 s gave 14 % of frames on Opus, 1 s with the hold below 3 %).
const START_FRAMES = 25;
const DOWN_AFTER_START = 5;
const DOWN_AFTER = 50;
// A step down that is followed by a step up within 1 s was one step too far: no step down again
// for 3 s.
const OVERSHOOT_WINDOW = 50;
const OVERSHOOT_HOLD = 150;
// Frames after a step down before the next one: the score describes the last second, so right
// after a step it still holds mostly audio of the level above, and in a stream's first frames
// mostly the exact silence before the stream. Without the spacing a stream that starts in
// speech stepped two levels down in its first quarter second (its young window scoring 0.99),
// then missed at a level that never reaches the floor, with the window too spoiled for any
// level or Opus rate to lift: 25-30 frames of Opus at up to 128 kbit/s and lossless (VCTK
// p225_001, streams starting at frames 0, 7, .., 49: 5 of 8 did so; with the spacing 3, whose
// first miss comes at the first step down).
const DOWN_SPACING = 25;

export class AudioRateController {
  readonly levels: number;
  level: number;
  #above = 0;
  #hold = 0;
  #frames = 0;
  #sinceDown = Infinity;
  #downHold = 0;
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
    this.#frames++;
    this.#sinceDown++;
    if (this.#hold > 0) this.#hold--;
    if (this.#downHold > 0) this.#downHold--;
    if ((active < 0.3 || this.#hold > 0) && score >= aim) {
      this.#above = 0;
      return;
    }
    if (score < aim + UP_MARGIN) {
      // Near or under the aim: one level up at once. The score describes the last half second,
      // so acting at the aim itself would be late; the margin absorbs that lag.
      // Under the aim itself (a miss: that frame went to the fallback, and the neural streams
      // restart after it): two levels, since a second miss costs more than the bits.
      this.level = Math.min(this.levels - 1, this.level + (score < aim ? 2 : 1));
      this.#above = 0;
      if (this.#sinceDown <= OVERSHOOT_WINDOW) this.#downHold = OVERSHOOT_HOLD;
      this.#sinceDown = Infinity;
    } else if (score > aim + DOWN_MARGIN && this.#downHold === 0) {
      // Comfortably over (by more than one level's step usually costs): step down after a
      // sustained run (DOWN_AFTER_START / DOWN_AFTER), unless the last step down overshot.
      if (++this.#above >= (this.#frames <= START_FRAMES ? DOWN_AFTER_START : DOWN_AFTER) && this.level > 0 && this.#sinceDown >= DOWN_SPACING) {
        this.level--;
        this.#above = 0;
        this.#sinceDown = 0;
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
