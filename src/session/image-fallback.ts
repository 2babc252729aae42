// The conventional step of the fallback ladder for video and screen frames: the frame as a media
// server would send it without AI (WebP or JPEG, src/conventional/image.ts), at the lowest quality
// setting whose measured score reaches the session's floor within the frame's byte budget. Each
// trial is encoded, decoded exactly as the receiver will decode it and scored (SSIM, worst tile) in
// C++, all off the event loop. The session remembers the setting that last served, so after the
// first frame one or two trials are the rule.
import { conventionalCodecFor, decodeConventional, encodeConventional, MAX_DOWNSCALE, scaledSize, type ConventionalImageCodec } from '../conventional/image.js';
import { PIXEL_FORMAT_CODE } from '../frames.js';
import { native } from '../native/load.js';
import { Ema } from '../stats.js';
import { resultOf, now } from './fallback.js';
import type { ImageFrameIn } from './image-path.js';
import type { CompressResult, FallbackReason, FrameSettings } from './types.js';

const MIN_QUALITY = 2;
const MAX_QUALITY = 98;
const SCALE_PROBE_EVERY = 30;

export interface ImageTargets {
  /** Mean SSIM to reach. */
  floor: number;
  /** Worst-tile SSIM to reach (metrics.h). */
  tileFloor: number;
  /** Largest payload that fits the link for this frame (Infinity: no limit known). */
  budgetBytes: number;
}

interface Trial {
  quality: number;
  downscale: number;
  payload: Buffer;
  ssim: number;
  psnr: number;
  worstTileSsim: number;
  passes: boolean;
  fits: boolean;
}

export class ConventionalImageStep {
  // Per codec: the lowest setting that last reached the floor, and how long a trial takes per Mpixel.
  readonly #quality = new Map<ConventionalImageCodec, number>();
  // The downscale (1/2^k) that last fitted the link, and frames since: a narrow link is not
  // re-tried at full size on every frame, only every SCALE_PROBE_EVERY frames one step larger.
  #scale = 0;
  #calls = 0;
  readonly msPerMp = new Ema(0.3);
  /** The score of the last frame it sent, and whether that frame served (reached the floor within the link). */
  readonly lastScore = new Ema(0.5);
  lastServed = false;

  /** Whether a frame has been coded yet (the setting to start from is known). */
  get known(): boolean {
    return this.#quality.size > 0;
  }

  /** Predicted milliseconds of one trial for a frame of `pixels` (NaN before the first). */
  predictMs(pixels: number): number {
    return this.msPerMp.known ? (this.msPerMp.value * pixels) / 1e6 : NaN;
  }

  /**
   * Codes `f` with the conventional codec. `maxTrials` bounds the encode-decode-score trials (one
   * for a frame that is already late). `reason` null: not a fallback but the frame's own path
   * (translucent frames, which the neural model cannot carry; smooth frames the codec serves for
   * less than the network's lowest level). `allowDownscale` false: full size only. Null when the
   * peer decodes neither WebP nor JPEG (or JPEG only and the frame has alpha to carry).
   */
  async code(
    f: ImageFrameIn,
    sequence: number,
    settings: FrameSettings,
    targets: ImageTargets,
    reason: FallbackReason | null,
    accepted: ReadonlySet<string>,
    maxTrials: number,
    allowDownscale = true,
  ): Promise<CompressResult | null> {
    const image = { data: f.bytes, width: f.width, height: f.height, format: f.format };
    const codec = conventionalCodecFor(image, accepted);
    if (!codec) return null;
    const t0 = now();
    const trial = async (quality: number, downscale = 0): Promise<Trial> => {
      const t = now();
      const body = await encodeConventional(image, codec, quality, downscale);
      const payload = native().packPayload(
        {
          frameType: f.type,
          codec,
          qualityLevel: quality,
          keyframe: true,
          fallback: reason !== null,
          format: PIXEL_FORMAT_CODE[f.format],
          modelId: 0,
          sequence,
          dim0: f.width,
          dim1: f.height,
          timestamp: f.timestamp ?? 0,
        },
        body,
      );
      const decoded = await decodeConventional(body, codec, f.format, f.width, f.height);
      const s = await native().scoreFrame(f.bytes, decoded, f.width, f.height, f.format);
      this.msPerMp.add((now() - t) / ((f.width * f.height) / 1e6));
      return {
        quality,
        downscale,
        payload,
        ssim: s.ssim,
        psnr: s.psnr,
        worstTileSsim: s.worstTileSsim,
        passes: s.ssim >= targets.floor && s.worstTileSsim >= targets.tileFloor,
        fits: payload.length <= targets.budgetBytes,
      };
    };

    // A search over the setting: from the remembered one, down while it serves and up while it
    // misses, halving the step; a payload over the budget counts as a miss that must go down.
    const known = this.#quality.get(codec);
    const scale = !allowDownscale ? 0 : this.#scale > 0 && ++this.#calls % SCALE_PROBE_EVERY === 0 ? this.#scale - 1 : this.#scale;
    let q = known ?? 60;
    let lo = MIN_QUALITY - 1; // highest setting known not to serve (too poor)
    let hi = MAX_QUALITY + 1; // lowest setting known to be too big or already serving
    const trials: Trial[] = [];
    for (let i = 0; i < maxTrials; i++) {
      const r = await trial(q, scale);
      trials.push(r);
      if (!r.fits || r.passes) hi = Math.min(hi, q);
      else lo = Math.max(lo, q);
      if (hi - lo <= 1) break;
      // After the first frame, small steps around the remembered setting; before it, bisection.
      const next = known !== undefined && i === 0 ? (r.fits && r.passes ? q - 4 : q + 8) : Math.round((lo + hi) / 2);
      q = Math.max(lo + 1, Math.min(hi - 1, next));
      if (trials.some((t) => t.quality === q)) break;
    }
    // A link too narrow for the frame at any setting: fewer pixels (the receiver scales back up).
    for (let k = scale + 1; allowDownscale && k <= MAX_DOWNSCALE && !trials.some((t) => t.fits); k++) trials.push(await trial(Math.max(MIN_QUALITY, Math.min(q, 40)), k));
    const serving = trials.filter((t) => t.fits && t.passes).sort((a, b) => a.payload.length - b.payload.length);
    const fitting = trials.filter((t) => t.fits).sort((a, b) => b.ssim - a.ssim);
    const chosen = serving[0] ?? fitting[0] ?? trials.reduce((a, b) => (a.payload.length <= b.payload.length ? a : b));
    // Next frame starts from what served, else from the best that fitted, else from the smallest.
    if (chosen.downscale === scale) this.#quality.set(codec, (serving[0] ?? fitting[0] ?? chosen).quality);
    if (allowDownscale) this.#scale = chosen.fits ? chosen.downscale : this.#scale;
    const ms = now() - t0;
    this.lastScore.add(chosen.ssim);
    this.lastServed = serving[0] !== undefined;
    return resultOf(f, sequence, settings, chosen.payload, {
      status: !serving[0] ? 'quality_threshold_not_met' : reason ? 'fallback' : 'success',
      fallbackReason: reason ?? undefined,
      codec,
      qualityLevel: chosen.quality,
      quality: { score: chosen.ssim, ssim: chosen.ssim, psnrDb: chosen.psnr, worstTileSsim: chosen.worstTileSsim, verified: true },
      timings: { preprocessMs: 0, inferenceMs: 0, postprocessMs: ms, totalMs: 0 },
      passes: trials.length,
      reductions:
        chosen.downscale > 0
          ? [{ kind: 'resolution', detail: `sent at 1/${2 ** chosen.downscale} of its size (${scaledSize(f.width, f.height, chosen.downscale).join('x')}) to fit the link; the receiver scales it back up` }]
          : [],
    });
  }
}
