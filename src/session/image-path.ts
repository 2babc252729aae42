// The video and screen path of a session: the closed-loop neural search steered by the session's
// rate controller, screen content served losslessly when deflate meets the target, the per-frame
// byte budget from the network, and the fallback when the neural path cannot serve a frame.
import { AicError } from '../errors.js';
import type { CheckedFrame } from '../frames.js';
import type { NetworkRecommendation } from '../network.js';
import { ImageRateController } from '../rate-control.js';
import type { PathContext } from './context.js';
import { baseResult, losslessResult, now } from './fallback.js';
import type { CompressResult, FrameQuality, FrameSettings, FrameTimings } from './types.js';

// A session blocked by its latency prediction still tries the neural path every this many frames,
// so that the prediction follows the machine's load.
const LATENCY_PROBE_EVERY = 30;

export type ImageFrameIn = Extract<CheckedFrame, { type: 'video' | 'screen' }>;

export class ImagePath {
  readonly #ctx: PathContext;
  readonly #controllers = new Map<'video' | 'screen', ImageRateController>();
  #latencyBlocked = 0;
  // Screen content: running ratio deflate achieves, to skip trying it on content it does not suit.
  #screenDeflateRatio = NaN;
  #screenFrames = 0;

  constructor(ctx: PathContext) {
    this.#ctx = ctx;
  }

  /** The session's controller for a frame type, if it has coded one. */
  controller(type: 'video' | 'screen'): ImageRateController | undefined {
    return this.#controllers.get(type);
  }

  #controllerFor(type: 'video' | 'screen', levels: number): ImageRateController {
    let c = this.#controllers.get(type);
    if (!c || c.levels !== levels) {
      c = new ImageRateController(levels);
      this.#controllers.set(type, c);
    }
    return c;
  }

  clear(): void {
    this.#controllers.clear();
  }

  async compress(f: ImageFrameIn, sequence: number, settings: FrameSettings, rec: NetworkRecommendation | null): Promise<CompressResult> {
    const o = this.#ctx.options;
    const codec = this.#ctx.host.image();
    if (!codec) return losslessResult(f, sequence, settings, { fallback: true, compress: true, reason: 'model_unavailable' });
    const pixels = f.width * f.height;

    // Screen content (text, flat areas) is usually served best exactly: when deflate alone meets
    // the target it goes out lossless (not a fallback). Content where deflate has been falling
    // short is only re-tried every 30 frames.
    if (f.type === 'screen') {
      this.#screenFrames++;
      const worthTrying = Number.isNaN(this.#screenDeflateRatio) || this.#screenDeflateRatio >= settings.target - 0.1 || this.#screenFrames % 30 === 0;
      if (worthTrying) {
        const lossless = await losslessResult(f, sequence, settings, { fallback: false, compress: true, level: 1 });
        this.#screenDeflateRatio = Number.isNaN(this.#screenDeflateRatio) ? lossless.compressionRatio : 0.7 * this.#screenDeflateRatio + 0.3 * lossless.compressionRatio;
        if (lossless.compressionRatio >= settings.target) return lossless;
      }
    }

    // Per-frame byte budget from the network: the frame must fit its share of the link.
    let { target } = settings;
    if (rec && f.fps) {
      const budgetBytes = (rec.maxBitrateKbps * 1000) / 8 / f.fps;
      target = Math.min(0.999, Math.max(target, 1 - budgetBytes / f.bytes.length));
    }

    const controller = this.#controllerFor(f.type, codec.levels);
    const predictedMs = controller.predictMs(pixels, 1);
    if (o.enableFallback && Number.isFinite(o.maxLatencyMs) && predictedMs > o.maxLatencyMs) {
      if (++this.#latencyBlocked % LATENCY_PROBE_EVERY !== 0) {
        return losslessResult(f, sequence, { ...settings, target }, { fallback: true, compress: true, reason: 'latency' });
      }
    }
    const plan = controller.plan(settings.aim, Number.isFinite(o.maxLatencyMs) ? controller.passBudget(pixels, o.maxLatencyMs) : 3);
    const t = now();
    let search;
    try {
      search = await codec.compress(
        { data: f.bytes, width: f.width, height: f.height, format: f.format },
        {
          startLevel: plan.startLevel,
          aim: settings.aim,
          maxPasses: plan.maxPasses,
          probeDown: plan.probeDown,
          verify: o.verifyQuality,
          sequence,
          keyframe: true,
          frameType: f.type,
          timestamp: f.timestamp ?? 0,
        },
      );
    } catch (error) {
      const e = AicError.from(error);
      if (e.code === 'INVALID_ARGUMENT') throw e;
      // The network failed (or its model was closed under us): the frame still goes out.
      return losslessResult(f, sequence, { ...settings, target }, { fallback: true, compress: true, reason: e.code === 'CLOSED' ? 'model_unavailable' : 'error' });
    }
    const wallMs = now() - t;
    const passMs = search.passes.reduce((s, p) => s + p.decodeMs + p.scoreMs, 0);
    controller.learn(search.passes, pixels, Math.max(0, wallMs - passMs));
    const counters = this.#ctx.counters;
    if (wallMs > o.maxLatencyMs) counters.latencyBudgetExceeded++;
    counters.passes += search.verified ? search.passes.length : 0;
    counters.neuralImageFrames++;
    const timings: FrameTimings = { ...search.timings, totalMs: 0 };
    const quality: FrameQuality = search.verified
      ? { score: search.ssim, ssim: search.ssim, psnrDb: search.psnr, verified: true }
      : { score: plan.predictedScore, verified: false };
    const floorMet = !search.verified || search.ssim >= settings.floor;
    if (!floorMet && o.enableFallback) {
      return losslessResult(f, sequence, { ...settings, target }, { fallback: true, compress: true, reason: 'quality', timings });
    }
    return {
      ...baseResult(f, sequence, { ...settings, target }, search.payload),
      status: floorMet ? 'success' : 'quality_threshold_not_met',
      codec: 'neural-image',
      qualityLevel: search.level,
      quality,
      timings,
      passes: search.verified ? search.passes.length : 0,
    };
  }
}
