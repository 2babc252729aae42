// The predicted-frame step of a video or screen session (issue 16): between keyframes, a frame is
// coded against the reference its receiver holds (native/core/video/inter_codec.h), with the
// same closed loop as the intra path - the reconstruction the receiver will make is scored
// (SSIM and worst tile) before the payload goes out, and the quantiser moves until it meets the
// floor or the frame's share of the bitrate.
//
// A frame goes as a keyframe (the image path, whose neural payload then becomes both sides'
// reference) on the stream's first frame, after a size change, every keyframeInterval frames,
// after session.requestKeyframe() (a receiver's picture-loss indication), on a scene change (most
// macroblocks found nothing to predict from), and when a predicted frame cannot reach the floor.
import { AicError } from '../errors.js';
import type { InterStream } from '../inter-codec.js';
import { hasTranslucency } from '../conventional/image.js';
import type { PathContext } from './context.js';
import { DEFAULT_LIMITS, referenceFits } from './decode.js';
import { resultOf, now } from './fallback.js';
import type { ImageFrameIn } from './image-path.js';
import type { CompressResult, FrameSettings } from './types.js';

/** The bitstream version of the compact predicted form (docs/bitstream.md). */
const COMPACT_PREDICTED_VERSION = 3;
/** The bitstream version of predicted frames of I420 streams (format 2, compact markers 0xAA/0xAB). */
const I420_PREDICTED_VERSION = 4;
/** Quantiser of a session's first predicted frame; the controller moves it from there. */
const START_QP = 30;
const MIN_QP = 8;
const MAX_QP = 51;
/** Share of intra macroblocks over which a frame counts as a new scene and goes as a keyframe. */
const SCENE_CHANGE_INTRA = 0.5;
/** Quality over the aim worth spending fewer bits on: one qp step up per this much headroom. */
const HEADROOM_PER_QP = 0.012;

export interface InterCounters {
  predictedFrames: number;
  keyframes: number;
  keyframesRequested: number;
  sceneChanges: number;
  /** requestRecovery() calls, and the predicted frames that answered one (the rest went as keyframes). */
  recoveriesRequested: number;
  recoveries: number;
}

export class InterPath {
  readonly #ctx: PathContext;
  #sender: InterStream | null = null;
  #receiver: InterStream | null = null;
  #sinceKeyframe = 0;
  #keyframeRequested = false;
  // requestRecovery(): the reference the receiver holds, for the next frame (null: none asked).
  #recoverFrom: number | null = null;
  #qp = START_QP;
  // Bytes of the last second's video frames (by frame count at the stream's fps), for targetBitrateKbps.
  readonly #recentBytes: number[] = [];
  readonly counters: InterCounters = { predictedFrames: 0, keyframes: 0, keyframesRequested: 0, sceneChanges: 0, recoveriesRequested: 0, recoveries: 0 };

  constructor(ctx: PathContext) {
    this.#ctx = ctx;
  }

  /** The next video frame goes as a keyframe (what a receiver's picture-loss indication maps to). */
  requestKeyframe(): void {
    this.#keyframeRequested = true;
    this.counters.keyframesRequested++;
  }

  /** The receiver holds frame `sequence`: the next frame is predicted from it when the sender keeps it, else a keyframe. */
  requestRecovery(sequence: number): void {
    this.counters.recoveriesRequested++;
    this.#recoverFrom = sequence;
  }

  /** The sequence number of the reference a receiving session holds, or null. */
  heldReference(): number | null {
    return this.#receiver?.heldReferenceSequence() ?? null;
  }

  /**
   * The predicted frame just coded went as stored bytes instead (it was larger than the frame):
   * the sender's reference is now ahead of the receiver's, so the sender starts a new chain at
   * the next frame. The receiver's reference, which decodes the peer's frames, is untouched.
   */
  dropSenderReference(): void {
    this.#sender?.reset();
    this.counters.predictedFrames--;
  }

  clear(): void {
    this.#sender?.reset();
    this.#receiver?.reset();
    this.#sender = null;
    this.#receiver = null;
    this.#recentBytes.length = 0;
  }

  /** Bytes held for references on both sides of this session. */
  memoryBytes(): number {
    return (this.#sender?.memoryBytes() ?? 0) + (this.#receiver?.memoryBytes() ?? 0);
  }

  #stream(which: 'sender' | 'receiver'): InterStream | null {
    const codec = this.#ctx.host.inter();
    if (!codec) return null;
    if (which === 'sender') {
      if (!this.#sender) {
        this.#sender = codec.createStream();
        if (this.#ctx.options.recoveryReferences > 0) this.#sender.keepReferences(this.#ctx.options.recoveryReferences);
      }
      return this.#sender;
    }
    return (this.#receiver ??= codec.createStream());
  }

  /** The receiver's stream (decode.ts): null when the engine has no inter model. */
  receiver(): InterStream | null {
    return this.#stream('receiver');
  }

  /** The frame's share of targetBitrateKbps over the sliding second, in bytes (Infinity without a target). */
  #bitrateBudget(f: ImageFrameIn): number {
    const kbps = this.#ctx.options.targetBitrateKbps;
    if (!Number.isFinite(kbps)) return Infinity;
    const fps = f.fps ?? 30;
    const perSecond = (kbps * 1000) / 8;
    const window = Math.max(1, Math.round(fps));
    const spent = this.#recentBytes.slice(-(window - 1)).reduce((a, b) => a + b, 0);
    // What the second has left, kept between a quarter and three times a frame's even share so
    // that one big frame is paid back over the next ones rather than by starving one.
    const even = perSecond / fps;
    return Math.floor(Math.min(3 * even, Math.max(0.25 * even, perSecond - spent)));
  }

  /** Records what went out (any codec), for the bitrate window. */
  #spent(bytes: number, f: ImageFrameIn): void {
    this.#recentBytes.push(bytes);
    const keep = Math.max(1, Math.round(f.fps ?? 30));
    if (this.#recentBytes.length > keep) this.#recentBytes.splice(0, this.#recentBytes.length - keep);
  }

  /**
   * The frame as a predicted frame, or null when it goes as a keyframe. `budgetBytes` is the
   * link's share for the frame (network adaptation); the bitrate target's share is applied here.
   */
  async compress(f: ImageFrameIn, sequence: number, s: FrameSettings, tileFloor: number, budgetBytes: number): Promise<CompressResult | null> {
    // A recovery request is answered by a predicted frame from the reference the receiver holds;
    // when this frame is not one (the sender no longer keeps it, a scene change, ...), by a
    // keyframe, retried until one goes out neural, as after requestKeyframe().
    const recoverFrom = this.#recoverFrom;
    this.#recoverFrom = null;
    const r = await this.#predicted(f, sequence, s, tileFloor, budgetBytes, recoverFrom);
    if (r === null && recoverFrom !== null) this.#keyframeRequested = true;
    return r;
  }

  async #predicted(f: ImageFrameIn, sequence: number, s: FrameSettings, tileFloor: number, budgetBytes: number, recoverFrom: number | null): Promise<CompressResult | null> {
    const o = this.#ctx.options;
    const codec = this.#ctx.host.inter();
    if (!o.interFrames || !codec || !this.#ctx.accepts('predicted', codec.modelId)) return null;
    // An I420 frame is predicted only for a peer that reads version 4 (an older one would refuse
    // it as corrupt: it gets keyframes, as before); a translucent RGBA frame never is (the
    // references are opaque R, G, B).
    if (f.format === 'i420' && !this.#ctx.reads(I420_PREDICTED_VERSION)) return null;
    if (f.format === 'rgba' && hasTranslucency({ data: f.bytes, width: f.width, height: f.height, format: f.format })) return null;
    if (this.#keyframeRequested || this.#sinceKeyframe + 1 >= o.keyframeInterval) return null;
    // A receiver with the default limits keeps no reference of a frame this thin (decode.ts).
    if (!referenceFits(f.width, f.height, DEFAULT_LIMITS.maxPixels)) return null;
    const stream = this.#stream('sender');
    if (!stream || !stream.hasReference(f.width, f.height)) return null;
    if (recoverFrom !== null && !stream.holdsReference(recoverFrom, f.width, f.height)) return null;
    const maxBytes = Math.min(budgetBytes, this.#bitrateBudget(f));
    const t = now();
    let r;
    try {
      r = await stream.encode(
        { data: f.bytes, width: f.width, height: f.height, format: f.format },
        {
          qp: Math.round(this.#qp),
          sequence,
          timestamp: f.timestamp ?? 0,
          frameType: f.type,
          score: o.verifyQuality,
          aim: s.aim,
          tileAim: tileFloor,
          maxPasses: o.verifyQuality ? 3 : 1,
          maxBytes: Number.isFinite(maxBytes) ? Math.max(1, maxBytes) : 0,
          minQp: MIN_QP,
          maxQp: MAX_QP,
          ...(recoverFrom !== null ? { reference: recoverFrom } : {}),
          // Version 3: the compact form (15 bytes of framing instead of 52), to a peer that reads it.
          compact: this.#ctx.reads(COMPACT_PREDICTED_VERSION),
        },
      );
    } catch (error) {
      const e = AicError.from(error);
      if (e.code === 'INVALID_ARGUMENT') throw e;
      // The reference could not serve (it was lost with a failed keyframe): start a new chain.
      stream.reset();
      return null;
    }
    const blocks = r.skipped + r.inter + r.intra;
    if (r.intra > SCENE_CHANGE_INTRA * blocks) {
      this.counters.sceneChanges++;
      return null;
    }
    const floorMet = !r.scored || (r.ssim >= s.floor && r.worstTileSsim >= tileFloor);
    const fits = r.payload.length <= maxBytes;
    // The byte budget (link or bitrate target) refused a pass: it, not the quantiser, holds the
    // quality back, and a keyframe would be larger still (one blew a 100 kbit/s second at once).
    const budgetBound = !fits || r.passes.some((p) => p.bytes > maxBytes);
    // Under the floor at the finest quantiser the loop tried: a keyframe may do better. The next
    // predicted frame starts finer than this one got (starting where this one did would miss
    // again, and every frame would go as a keyframe).
    if (!floorMet && !budgetBound && o.enableFallback) {
      this.#qp = Math.max(MIN_QP, Math.min(...r.passes.map((p) => p.qp)) - 4);
      return null;
    }
    stream.commit();
    this.#sinceKeyframe++;
    this.counters.predictedFrames++;
    if (recoverFrom !== null) this.counters.recoveries++;
    this.#spent(r.payload.length, f);
    // Next frame's quantiser: where this one landed, one step coarser per HEADROOM_PER_QP of
    // score above the aim (bits saved where the picture allows), finer when it was over its share.
    let next = r.qp;
    if (r.scored && r.ssim > s.aim) next += Math.min(3, Math.floor((r.ssim - s.aim) / HEADROOM_PER_QP));
    if (Number.isFinite(maxBytes) && r.payload.length > 0.9 * maxBytes) next += 2;
    this.#qp = Math.min(MAX_QP, Math.max(MIN_QP, next));
    const ms = now() - t;
    return resultOf(f, sequence, s, r.payload, {
      status: floorMet && fits ? 'success' : 'quality_threshold_not_met',
      codec: 'predicted',
      qualityLevel: r.qp,
      quality: r.scored ? { score: r.ssim, ssim: r.ssim, psnrDb: r.psnr, worstTileSsim: r.worstTileSsim, verified: true } : { score: s.aim, verified: false },
      timings: { preprocessMs: r.timings.preprocessMs, inferenceMs: 0, postprocessMs: Math.max(0, ms - r.timings.preprocessMs), totalMs: 0 },
      passes: r.scored ? r.passes.length : 0,
    });
  }

  /** After a frame went by the image path: a neural keyframe becomes both sides' reference. */
  sentByImagePath(f: ImageFrameIn, result: CompressResult): void {
    this.#spent(result.payload.length, f);
    // A session without predicted frames keeps no reference and counts no keyframes.
    if (!this.#ctx.options.interFrames || result.codec !== 'neural-image') return;
    const stream = this.#stream('sender');
    if (!stream) return;
    stream.adoptKeyframe(result.payload);
    this.#sinceKeyframe = 0;
    this.#keyframeRequested = false;
    // The quantiser is not reset: the chain before this keyframe (or the predicted frame that
    // missed the floor and made it) says best where the next predicted frame should start.
    this.counters.keyframes++;
  }
}
