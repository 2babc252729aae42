// What an engine has learnt of image content across its sessions: per frame type and size class,
// each level's score and bits per pixel, averaged over the frames its sessions measured. A new
// session's first frame starts from it (a bracketed search around the level it predicts: two
// passes when it is right) instead of searching every level from nothing; a kind of content the
// engine has not seen still gets the full bisection.
import type { NativeImageSearchPass } from '../../bindings.js';
import { Ema } from '../stats.js';

export interface LevelPrior {
  score: Ema;
  bpp: Ema;
}

/** Size classes an octave of pixels apart (640x360 and 768x512 share one; 1280x720 is the next). */
function sizeClass(pixels: number): number {
  return Math.round(Math.log2(Math.max(1, pixels)));
}

export class ImagePriors {
  readonly #map = new Map<string, LevelPrior[]>();

  #key(type: 'video' | 'screen', pixels: number, levels: number): string {
    return `${type}/${sizeClass(pixels)}/${levels}`;
  }

  /** The prior for frames like these, or undefined when no session has measured one. */
  get(type: 'video' | 'screen', pixels: number, levels: number): readonly LevelPrior[] | undefined {
    return this.#map.get(this.#key(type, pixels, levels));
  }

  /** Folds one frame's measured passes into the prior. */
  learn(type: 'video' | 'screen', pixels: number, levels: number, passes: readonly NativeImageSearchPass[]): void {
    const key = this.#key(type, pixels, levels);
    let prior = this.#map.get(key);
    for (const p of passes) {
      if (!(p.ssim > 0) || p.level < 0 || p.level >= levels) continue;
      if (!prior) {
        // Slow averages: the prior describes many sessions, not the last frame.
        prior = Array.from({ length: levels }, () => ({ score: new Ema(0.05), bpp: new Ema(0.05) }));
        this.#map.set(key, prior);
        if (this.#map.size > 64) this.#map.delete(this.#map.keys().next().value!);
      }
      prior[p.level]!.score.add(p.ssim);
      prior[p.level]!.bpp.add((p.bytes * 8) / Math.max(1, pixels));
    }
  }
}
