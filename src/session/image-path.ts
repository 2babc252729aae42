// The video and screen path of a session, and its fallback ladder:
//
//  1. the closed-loop neural search steered by the session's rate controller: the lowest level
//     whose measured SSIM and worst-tile SSIM reach the floor and whose payload fits the link;
//  2. when the closed loop is predicted to miss maxLatencyMs (`latency`): the neural codec open
//     loop at the predicted level, or the conventional codec where that is faster;
//  3. when the neural path misses the floor (`quality`), fails (`error`), has no model or the peer
//     cannot decode it (`model_unavailable`): the conventional codec (WebP/JPEG) at the setting
//     that reaches the floor within the link, measured like any frame;
//  4. lossless only where the caller asks for it (fallbackCodec: 'lossless'), for screen content
//     deflate serves within the target, or where it is also the smallest payload.
// A frame that nothing serves within the link goes out as the best-scoring payload that fits, with
// status quality_threshold_not_met.
import { AicError } from '../errors.js';
import type { ImageCodec, ImageSearchOptions } from '../image-codec.js';
import type { CheckedFrame } from '../frames.js';
import type { NetworkRecommendation } from '../network.js';
import { ImageRateController } from '../rate-control.js';
import type { PathContext } from './context.js';
import { resultOf, losslessResult, now } from './fallback.js';
import { hasTranslucency } from '../conventional/image.js';
import { ConventionalImageStep, type ImageTargets } from './image-fallback.js';
import type { CompressResult, FallbackReason, FrameQuality, FrameSettings, FrameTimings } from './types.js';

// A session blocked by its latency prediction still runs the closed loop every this many frames,
// so that the prediction follows the machine's load (and the content's levels stay known).
const LATENCY_PROBE_EVERY = 30;
/** The worst-tile floor sits this far under the mean floor (see FrameQuality.worstTileSsim). */
export const TILE_FLOOR_MARGIN = 0.25;
/** Level 0 this far over the aim: worth one look at whether the conventional codec serves for less. */
const LEVEL0_HEADROOM = 0.03;

export type ImageFrameIn = Extract<CheckedFrame, { type: 'video' | 'screen' }>;

export class ImagePath {
  readonly #ctx: PathContext;
  readonly #controllers = new Map<'video' | 'screen', ImageRateController>();
  readonly #conventional = new Map<'video' | 'screen', ConventionalImageStep>();
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

  #controllerFor(type: 'video' | 'screen', levels: number, pixels: number): ImageRateController {
    let c = this.#controllers.get(type);
    if (!c || c.levels !== levels) {
      c = new ImageRateController(levels);
      // A new stream starts from what the engine learnt on streams like it, when it has.
      const prior = this.#ctx.host.imagePriors.get(type, pixels, levels);
      if (prior) c.seed(prior);
      this.#controllers.set(type, c);
    }
    return c;
  }

  #conventionalFor(type: 'video' | 'screen'): ConventionalImageStep {
    let c = this.#conventional.get(type);
    if (!c) {
      c = new ConventionalImageStep();
      this.#conventional.set(type, c);
    }
    return c;
  }

  clear(): void {
    this.#controllers.clear();
    this.#conventional.clear();
  }

  /** The largest payload the link carries for one frame, when the caller told bandwidth and fps. */
  static budgetBytes(f: ImageFrameIn, rec: NetworkRecommendation | null): number {
    if (!rec || !f.fps) return Infinity;
    // No floor under it: a share smaller than any payload can be (about 0.3 KB for JPEG at 1/8
    // size) is not met, and the smallest payload goes out as quality_threshold_not_met.
    return Math.floor((rec.maxBitrateKbps * 1000) / 8 / f.fps);
  }

  async compress(f: ImageFrameIn, sequence: number, settings: FrameSettings, rec: NetworkRecommendation | null): Promise<CompressResult> {
    const o = this.#ctx.options;
    const budgetBytes = ImagePath.budgetBytes(f, rec);
    // The byte budget as a ratio, for the result (the frame must fit its share of the link).
    const s: FrameSettings = Number.isFinite(budgetBytes) ? { ...settings, target: Math.min(0.999, Math.max(settings.target, 1 - budgetBytes / f.bytes.length)) } : settings;
    const targets: ImageTargets = { floor: s.floor, tileFloor: Math.max(0, s.floor - TILE_FLOOR_MARGIN), budgetBytes };
    const fallback = (reason: FallbackReason, maxTrials = 6, timings?: Partial<FrameTimings>) => this.#fallback(f, sequence, s, targets, reason, maxTrials, timings);

    // The neural model codes colour only: a frame with transparency goes out as WebP, whose alpha
    // is lossless, so the receiver gets the alpha it was given (not a fallback: its designated path).
    if (hasTranslucency({ data: f.bytes, width: f.width, height: f.height, format: f.format })) {
      const r = this.#ctx.options.fallbackCodec === 'lossless' ? null : await this.#tryConventional(f, sequence, s, targets, null, 4);
      return r ?? losslessResult(f, sequence, s, { fallback: false, compress: true });
    }
    const codec = this.#ctx.host.image();
    const peerDecodes = this.#ctx.accepts('neural-image', codec?.modelId);
    if (!codec || !peerDecodes) return fallback('model_unavailable');
    const pixels = f.width * f.height;

    // Screen content (text, flat areas) is usually served best exactly: when deflate alone meets
    // the target and fits the link it goes out lossless (not a fallback). Content where deflate
    // has been falling short is only re-tried every 30 frames.
    if (f.type === 'screen') {
      this.#screenFrames++;
      const worthTrying = Number.isNaN(this.#screenDeflateRatio) || this.#screenDeflateRatio >= s.target - 0.1 || this.#screenFrames % 30 === 0;
      if (worthTrying) {
        const lossless = await losslessResult(f, sequence, s, { fallback: false, compress: true, level: 1 });
        this.#screenDeflateRatio = Number.isNaN(this.#screenDeflateRatio) ? lossless.compressionRatio : 0.7 * this.#screenDeflateRatio + 0.3 * lossless.compressionRatio;
        if (lossless.compressionRatio >= s.target && lossless.payload.length <= budgetBytes) return lossless;
      }
    }

    const controller = this.#controllerFor(f.type, codec.levels, pixels);
    const closedLoopMs = controller.predictMs(pixels, Math.max(1, controller.passesPerFrame.value || 1));
    if (o.enableFallback && Number.isFinite(o.maxLatencyMs) && closedLoopMs > o.maxLatencyMs && ++this.#latencyBlocked % LATENCY_PROBE_EVERY !== 0) {
      // Late before it starts: the faster of the open loop at the predicted level (the highest
      // predicted to fit the link) and one trial of the conventional codec at its remembered
      // setting; where the conventional codec has been missing the floor, the open loop whenever
      // it is predicted to score higher.
      const conventional = this.#conventionalFor(f.type);
      const openLoopMs = controller.openLoopMsPerMp.known ? (controller.openLoopMsPerMp.value * pixels) / 1e6 : controller.predictMs(pixels, 0);
      const conventionalMs = conventional.predictMs(pixels);
      // Unmeasured, so aimed with a margin (twice the typical prediction error) over the aim.
      const level = ImagePath.#fittingLevel(controller, controller.levelFor(s.aim + controller.openLoopMargin), pixels, budgetBytes);
      const openLoopScore = controller.predictScore(level) - controller.openLoopMargin;
      const conventionalMisses = conventional.lastScore.known && !conventional.lastServed;
      // The open loop's own time is learnt by running it: until then it counts as the faster.
      const faster = !controller.openLoopMsPerMp.known || openLoopMs <= o.maxLatencyMs || !(conventionalMs < openLoopMs);
      const fits = controller.predictBpp(level) * pixels <= budgetBytes * 8;
      if (fits && (faster || (conventionalMisses && openLoopScore > conventional.lastScore.value))) return this.#openLoop(f, sequence, s, controller, level, targets);
      return fallback('latency', 1);
    }

    const plan = controller.plan(s.aim, Number.isFinite(o.maxLatencyMs) ? controller.passBudget(pixels, o.maxLatencyMs) : 3);
    const t = now();
    let search;
    try {
      search = await ImagePath.#search(codec, f, sequence, {
        startLevel: plan.startLevel,
        aim: s.aim,
        tileAim: targets.tileFloor,
        maxPasses: plan.maxPasses,
        probeDown: plan.probeDown,
        bisect: plan.bisect,
        hinted: plan.hinted,
        maxBytes: Number.isFinite(budgetBytes) ? budgetBytes : 0,
        verify: o.verifyQuality,
      });
    } catch (error) {
      const e = AicError.from(error);
      if (e.code === 'INVALID_ARGUMENT') throw e;
      // The network failed (or its model was closed under us): the frame still goes out.
      return fallback(e.code === 'CLOSED' ? 'model_unavailable' : 'error');
    }
    const wallMs = now() - t;
    const passMs = search.passes.reduce((sum, p) => sum + p.decodeMs + p.scoreMs, 0);
    controller.learn(search.passes, pixels, Math.max(0, wallMs - passMs));
    this.#ctx.host.imagePriors.learn(f.type, pixels, codec.levels, search.passes);
    const counters = this.#ctx.counters;
    if (wallMs > o.maxLatencyMs) counters.latencyBudgetExceeded++;
    counters.passes += search.verified ? search.passes.length : 0;
    counters.neuralImageFrames++;
    const timings: FrameTimings = { ...search.timings, totalMs: 0 };
    const quality: FrameQuality = search.verified
      ? { score: search.ssim, ssim: search.ssim, psnrDb: search.psnr, worstTileSsim: search.worstTileSsim, verified: true }
      : { score: plan.predictedScore, verified: false };
    const floorMet = !search.verified || (search.ssim >= s.floor && search.worstTileSsim >= targets.tileFloor);
    const fits = search.payload.length <= budgetBytes;
    if ((!floorMet || !fits) && o.enableFallback) {
      // The conventional codec may serve where the network did not; the better of the two goes.
      const conventional = await fallback('quality', 6, timings);
      if (conventional.status !== 'quality_threshold_not_met' || !fits || conventional.quality.score >= quality.score) return conventional;
    }
    // The network's lowest level with room to spare over the aim (smooth content): the
    // conventional codec may reach the floor with fewer bytes, so a lower floor still saves.
    if (floorMet && fits && search.verified && search.level === 0 && search.ssim > s.aim + LEVEL0_HEADROOM && o.fallbackCodec !== 'lossless') {
      const conventional = this.#conventionalFor(f.type);
      const spent = now() - t;
      const trialMs = conventional.predictMs(pixels);
      if (!Number.isFinite(o.maxLatencyMs) || (Number.isFinite(trialMs) && spent + trialMs <= o.maxLatencyMs)) {
        const cheaper = await this.#tryConventional(f, sequence, s, { ...targets, budgetBytes: Math.min(budgetBytes, search.payload.length - 1) }, null, conventional.known ? 2 : 4, false);
        if (cheaper && cheaper.status === 'success') return cheaper;
      }
    }
    return resultOf(f, sequence, s, search.payload, {
      status: floorMet && fits ? 'success' : 'quality_threshold_not_met',
      codec: 'neural-image',
      qualityLevel: search.level,
      quality,
      timings,
      passes: search.verified ? search.passes.length : 0,
    });
  }

  /** The codec's search over `f` with the payload header fields of this frame. */
  static #search(codec: ImageCodec, f: ImageFrameIn, sequence: number, options: Omit<ImageSearchOptions, 'sequence' | 'keyframe' | 'frameType' | 'timestamp'>) {
    return codec.compress({ data: f.bytes, width: f.width, height: f.height, format: f.format }, { ...options, sequence, keyframe: true, frameType: f.type, timestamp: f.timestamp ?? 0 });
  }

  /** The highest level at or under `level` predicted to fit the link's share. */
  static #fittingLevel(controller: ImageRateController, level: number, pixels: number, budgetBytes: number): number {
    while (level > 0 && controller.predictBpp(level) * pixels > budgetBytes * 8) level--;
    return level;
  }

  /** The latency step: the network's encoder once at the predicted level, nothing measured. */
  async #openLoop(f: ImageFrameIn, sequence: number, s: FrameSettings, controller: ImageRateController, level: number, targets: ImageTargets): Promise<CompressResult> {
    const codec = this.#ctx.host.image()!;
    const t = now();
    let search;
    try {
      search = await ImagePath.#search(codec, f, sequence, {
        startLevel: level,
        aim: s.aim,
        maxPasses: 1,
        verify: false,
        maxBytes: Number.isFinite(targets.budgetBytes) ? targets.budgetBytes : 0,
      });
    } catch (error) {
      const e = AicError.from(error);
      if (e.code === 'INVALID_ARGUMENT') throw e;
      return this.#fallback(f, sequence, s, targets, e.code === 'CLOSED' ? 'model_unavailable' : 'error', 1);
    }
    const ms = now() - t;
    controller.learn(search.passes, f.width * f.height, ms);
    controller.openLoopMsPerMp.add(ms / ((f.width * f.height) / 1e6));
    // Even the lowest level is over the link's share (new content): the conventional step, which
    // can send fewer pixels.
    if (search.payload.length > targets.budgetBytes) return this.#fallback(f, sequence, s, targets, 'latency', 1);
    // The cautious prediction (less the margin) is what is reported: a frame predicted under the
    // floor (the link allows no better) says so, as a measured miss would.
    const predicted = Math.max(0, controller.predictScore(search.level) - controller.openLoopMargin);
    return resultOf(f, sequence, s, search.payload, {
      status: predicted < s.floor ? 'quality_threshold_not_met' : 'fallback',
      fallbackReason: 'latency',
      codec: 'neural-image',
      qualityLevel: search.level,
      quality: { score: predicted, verified: false },
      timings: { ...search.timings, totalMs: 0 },
      passes: 0,
    });
  }

  /** The conventional codec's result, or null where the peer takes none or the codec refuses the frame. */
  async #tryConventional(f: ImageFrameIn, sequence: number, s: FrameSettings, targets: ImageTargets, reason: FallbackReason | null, maxTrials: number, allowDownscale = true): Promise<CompressResult | null> {
    try {
      return await this.#conventionalFor(f.type).code(f, sequence, s, targets, reason, this.#ctx.acceptedCodecs, maxTrials, allowDownscale);
    } catch {
      // WebP stops at 16383 px a side, JPEG at 65535: such a frame goes out by the next step.
      return null;
    }
  }

  /** Steps 3 and 4 of the ladder: the conventional codec, or the frame's exact bytes. */
  async #fallback(f: ImageFrameIn, sequence: number, s: FrameSettings, targets: ImageTargets, reason: FallbackReason, maxTrials: number, timings?: Partial<FrameTimings>): Promise<CompressResult> {
    const lossless = () => losslessResult(f, sequence, s, { fallback: true, compress: true, reason, ...(timings ? { timings } : {}) });
    if (this.#ctx.options.fallbackCodec === 'lossless') return lossless();
    const conventional = await this.#tryConventional(f, sequence, s, targets, reason, maxTrials);
    if (!conventional) return lossless();
    if (conventional.status === 'quality_threshold_not_met') {
      // Nothing conventional reached the floor within the link: the exact frame if it fits.
      const exact = await lossless();
      if (exact.payload.length <= targets.budgetBytes) return exact;
    }
    if (timings) {
      conventional.timings.preprocessMs += timings.preprocessMs ?? 0;
      conventional.timings.inferenceMs += timings.inferenceMs ?? 0;
      conventional.timings.postprocessMs += timings.postprocessMs ?? 0;
    }
    return conventional;
  }
}
