// The public shapes of a session's calls: options, results, statistics, hints, and what a session
// needs from its engine. No behaviour lives here.
import type { AudioCodec } from '../audio-codec.js';
import type { AudioSampleFormat, FrameType, PixelFormat } from '../frames.js';
import type { ImageCodec } from '../image-codec.js';
import type { InterCodec } from '../inter-codec.js';
import type { MetricsRecorder } from '../metrics/recorder.js';
import type { CompressionMode } from '../modes.js';
import type { NetworkAnalysis, NetworkConditions } from '../network.js';
import type { DistributionSummary } from '../stats.js';
import type { Admission } from './admission.js';
import type { ImagePriors } from './image-prior.js';
import type { Session } from './session.js';

export type FallbackReason = 'quality' | 'latency' | 'error' | 'model_unavailable';
export type CompressStatus = 'success' | 'fallback' | 'quality_threshold_not_met';
/** 'predicted': a video frame coded against the receiver's reference (the last keyframe or predicted frame), docs/video-codec.md. */
export type PayloadCodec = 'neural-image' | 'neural-audio' | 'deflate' | 'stored' | 'webp' | 'jpeg' | 'opus' | 'predicted';

export interface SessionOptions {
  /** Names the session in stats and errors; must be unique among the engine's open sessions. Default: generated. */
  sessionId?: string;
  /** Default 'adaptive'. */
  mode?: CompressionMode;
  /** 1 - compressed/original the session aims to save at least; default: the mode's (adaptive 0.80). */
  targetCompressionRatio?: number;
  /** Quality floor in [0, 1]; default: the mode's (adaptive 0.85). */
  minQualityScore?: number;
  /** Latency budget of one frame in ms (default 20); Infinity for none. */
  maxLatencyMs?: number;
  /** Send frames the neural path cannot serve (quality, latency, error, no model) down the fallback ladder; default true. */
  enableFallback?: boolean;
  /**
   * What carries a frame the neural path cannot serve: 'conventional' (default) the codec the media
   * would use without AI (WebP or JPEG for video and screen, Opus for audio) at the setting that
   * reaches the floor; 'lossless' the frame's exact bytes (deflate or stored). Data frames are
   * always lossless.
   */
  fallbackCodec?: 'conventional' | 'lossless';
  /**
   * What the receiving side decodes (its `engine.capabilities()`, sent over the signalling
   * channel): the session never sends a payload the peer cannot decode, stepping down the ladder
   * instead. Default: a peer of this version with the same models.
   */
  peerCapabilities?: Capabilities;
  /** Decode and score every neural frame before sending it (closed loop); default true. */
  verifyQuality?: boolean;
  /**
   * Video and screen: code frames as predicted frames against the receiver's reference (motion
   * compensation, skipped blocks) between keyframes; default true (5-10x fewer bits than coding
   * every frame on its own: docs/video-codec.md). The receiver must decode them in a session of
   * its own, in order (session.decompressFrame(); engine.decompressFrame() has no reference), and
   * answer REFERENCE_MISSING with requestKeyframe() / requestRecovery() on the sender; a peer
   * whose capabilities lack 'predicted' or the engine's inter model never gets one. false: every
   * frame is coded on its own (each decodes anywhere, and a lost one costs only itself).
   */
  interFrames?: boolean;
  /**
   * A keyframe at least every this many video frames, so that a receiver that joined late or lost
   * frames without telling the sender recovers by itself; default 300 (10 s at 30 fps: keyframes
   * cost several times a predicted frame, and a call's receivers ask for one with a picture-loss
   * indication, session.requestKeyframe(), when they need it sooner). Infinity for none.
   */
  keyframeInterval?: number;
  /**
   * Video senders with predicted frames: how many references before the current one the sender
   * keeps, so that a receiver that lost frames can be served a predicted frame against the one it
   * still holds (session.requestRecovery(), what an RTCP reference-selection or loss report maps
   * to) instead of a keyframe, which costs 7-16 predicted frames. Each costs the frame's three
   * planes (0.7 MB at 640x360), counted in stats().video.referenceBytes. Default 0: recovery
   * requests are answered with a keyframe. 0..64.
   */
  recoveryReferences?: number;
  /**
   * Video: the bitrate the stream should hold over any second, in kbit/s (with the frames' fps);
   * predicted frames are sized to it, as a WebRTC sender's encoder is to its target. Default: none
   * (the quality floor and compression target decide).
   */
  targetBitrateKbps?: number;
  /**
   * Audio: discontinuous transmission. A frame of background (no voice: the room between words)
   * goes out as a silence descriptor (`result.silence`), a payload of 14 bytes at 16 kHz mono that
   * the receiver plays as comfort noise; of a run of them, all but the first and every 20th (one
   * each 400 ms, as Opus's DTX) say `result.mayDrop`: the sender may leave them unsent, and the
   * receiver calls concealFrame() for each frame it was not sent, which plays more comfort noise.
   * Default false (WebRTC's default for Opus DTX too: a call that drops packets is harder to
   * debug, and a receiver must conceal on time).
   */
  dtx?: boolean;
}

/**
 * What a call does when the engine already has `maxInFlight` frames in flight: 'reject' (default)
 * fails at once with RESOURCE_EXHAUSTED, before the frame is accepted; 'wait' waits for a slot.
 */
export type WhenBusy = 'reject' | 'wait';

export interface CompressOptions {
  whenBusy?: WhenBusy;
  /** Current network conditions of the path the payload takes. */
  network?: NetworkConditions;
  /** A Buffer to write the payload into; it must hold originalBytes + 44 bytes (the largest payload possible). */
  output?: Buffer;
}

export interface FrameQuality {
  /** In [0, 1]: SSIM for video and screen, the audio score for audio, 1 for lossless payloads. */
  score: number;
  ssim?: number;
  psnrDb?: number;
  /**
   * Video and screen: the lowest SSIM of any 64-px tile of the frame (native/core/image/metrics.h). A
   * frame is served only when this also reaches the session's tile floor (minQualityScore - 0.25),
   * so a block badly wrong is not hidden by a good mean.
   */
  worstTileSsim?: number;
  siSnrDb?: number;
  logMelDistanceDb?: number;
  /**
   * Audio: the per-frame check, the largest difference in dB between a band's energy in this
   * frame's reconstruction and in its input (8 bands over the mel range, aligned by the codec's
   * delay). Over 10 dB the frame is a miss (a muted beep, a dropout, a click, clipping), treated
   * like a score under the floor, whatever the 1 s window's score says.
   */
  worstBandErrorDb?: number;
  /**
   * Audio: the per-frame spectral-hole check over the whole band of the stream's rate (not only
   * the 8 kHz the mel measures see): the share of this frame's audible time-frequency bins that
   * its reconstruction leaves 30 dB or more under the input (native/core/audio/audio_metrics.h).
   * Over the hole tolerance the frame is a miss like a score under the floor: a 48 kHz stream
   * that the 16 kHz model codes without its band above 8 kHz is not a success.
   */
  holeFraction?: number;
  /** Audio: the same hole fraction pooled over the last second the receiver played. */
  windowHoleFraction?: number;
  /**
   * Audio: band loss over the last second the receiver played: the share of its audible bins
   * that lie in one-third-octave bands left 30 dB or more under the input as a whole. A neural
   * frame misses when it is over 0.2 (the model is not carrying the stream's band: a 48 kHz
   * stream's band above 8 kHz); a fallback frame, which cannot undo what was played, is judged
   * by its own holeFraction.
   */
  windowBandLoss?: number;
  /** Measured on the reconstruction (true), or predicted from history because verifyQuality is off (false). */
  verified: boolean;
}

export interface FrameTimings {
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
  totalMs: number;
}

/** Something of the frame the payload does not carry: the receiver gets the frame without it. */
export interface FrameReduction {
  /**
   * 'bandwidth': audio above a cut-off frequency was not coded; 'channels': fewer channels were
   * coded than given; 'resampled': coded at another rate; 'resolution': an image sent at fewer
   * pixels (a link too narrow for it at any setting), scaled back up by the receiver.
   */
  kind: 'bandwidth' | 'channels' | 'resampled' | 'resolution';
  /** What was left out, for people: e.g. 'audio above 8 kHz is not coded (the model runs at 16 kHz)'. */
  detail: string;
}

export interface CompressResult {
  payload: Buffer;
  status: CompressStatus;
  fallbackReason?: FallbackReason;
  frameType: FrameType;
  codec: PayloadCodec;
  originalBytes: number;
  compressedBytes: number;
  /** 1 - compressedBytes / originalBytes. */
  compressionRatio: number;
  /** The neural model's level, or the conventional codec's setting (WebP/JPEG quality 1-100); null for lossless payloads. */
  qualityLevel: number | null;
  quality: FrameQuality;
  timings: FrameTimings;
  /** Decode-and-score passes spent (image frames). */
  passes: number;
  /** Mode, target and floor this frame was coded under (after network adaptation). */
  mode: CompressionMode;
  targetCompressionRatio: number;
  minQualityScore: number;
  sequence: number;
  /** What this payload leaves out of the frame it was given; empty when it carries all of it. */
  reductions: FrameReduction[];
  /** Audio with `dtx`: the payload is a silence descriptor (comfort noise at the receiver). */
  silence?: boolean;
  /** Audio with `dtx`: a silence descriptor the sender may leave unsent (the receiver conceals the frame with comfort noise). */
  mayDrop?: boolean;
}

export interface DecompressOptions {
  whenBusy?: WhenBusy;
  /** A Buffer to write the frame's bytes into; it must be exactly the frame's size. */
  output?: Buffer;
}

export interface DecompressedFrame {
  type: FrameType;
  /** Pixel or sample format; 'bytes' for data frames. */
  format: PixelFormat | AudioSampleFormat | 'bytes';
  data: Buffer;
  width?: number;
  height?: number;
  sampleRate?: number;
  channels?: number;
  timestamp: number;
  sequence: number;
  keyframe: boolean;
  /** The payload was a fallback (the frame went down the ladder: conventional codec or lossless). */
  fallback: boolean;
  codec: PayloadCodec;
  /** The neural model's level, or the conventional codec's setting (WebP/JPEG quality); null for lossless payloads. */
  qualityLevel: number | null;
  /** Audio: the frame was made up by concealFrame(). */
  concealed?: boolean;
  /** Audio: comfort noise (a silence descriptor, or a frame concealed after one; sessions with `dtx`). */
  comfortNoise?: boolean;
  /**
   * Audio: where `data` starts relative to the start of the frame this payload carried, in
   * samples per channel. Lossless frames come back on time (0); neural frames trail by the
   * codec's delay (negative). A player that places each frame at sequence x frame length +
   * offsetSamples (lossless samples winning where they overlap) gets one continuous timeline
   * across switches between the two.
   */
  offsetSamples?: number;
  timings: { totalMs: number };
}

export interface CompressionHints {
  recommendedMode: CompressionMode;
  recommendedCompressionRatio: number;
  predictedCompressionRatio: number;
  predictedQualityScore: number;
  predictedLatencyMs: number;
  predictedLevel: number | null;
  /** 0..1: how much history the prediction rests on and how steady it has been. */
  confidence: number;
  /** Video and screen, when the link (a network report) and meta.fps are known: the bytes one frame may take. */
  frameBudgetBytes: number | null;
  /**
   * When frames like this are predicted not to reach the floor within the link: the largest pixel
   * count (at this fps) and the highest frame rate (at this size) predicted to; null otherwise.
   * A sender scales or drops frames; the session itself never sends more than the link carries.
   */
  recommendedMaxPixels: number | null;
  recommendedFps: number | null;
  network: NetworkAnalysis | null;
}

export interface FrameMeta {
  type: FrameType;
  width?: number;
  height?: number;
  /** Video and screen: frames per second, to turn the link into a per-frame budget. */
  fps?: number;
  format?: PixelFormat | AudioSampleFormat;
  sampleRate?: number;
  channels?: number;
  bytes?: number;
}

export interface SessionStats {
  sessionId: string;
  mode: CompressionMode;
  closed: boolean;
  framesProcessed: number;
  framesCompressed: number;
  framesFallback: number;
  framesQualityNotMet: number;
  framesLossless: number;
  fallbacks: Record<FallbackReason, number>;
  framesByType: Record<FrameType, number>;
  framesDecompressed: number;
  bytesIn: number;
  bytesOut: number;
  bandwidthSavedBytes: number;
  modeChanges: number;
  /** Frames whose neural path took longer than maxLatencyMs (sent anyway: the time was already spent). */
  latencyBudgetExceeded: number;
  compressionRatio: DistributionSummary;
  qualityScore: DistributionSummary;
  latencyMs: DistributionSummary;
  passesPerFrame: number;
  /**
   * Video and screen as predicted frames: frames coded against the receiver's reference, keyframes
   * that started a chain, keyframes asked for (requestKeyframe()), scene changes that forced one,
   * recoveries asked for (requestRecovery()) and those answered by a predicted frame against the
   * receiver's reference, and the bytes the session holds for references (both sides).
   */
  video: { predictedFrames: number; keyframes: number; keyframesRequested: number; sceneChanges: number; recoveriesRequested: number; recoveries: number; referenceBytes: number };
  startedAt: number;
  lastActivityAt: number;
}

/** What a session needs from its engine. */
export interface SessionHost {
  /** What the engine learnt of image content across its sessions (image-prior.ts). */
  readonly imagePriors: ImagePriors;
  /** The engine's bound on frames in flight (admission.ts). */
  readonly admission: Admission;
  image(): ImageCodec | null;
  imageUnavailable(): string;
  /** The inter codec of predicted video frames (null when none is loaded). */
  inter(): InterCodec | null;
  audio(): AudioCodec | null;
  audioUnavailable(): string;
  released(session: Session): void;
  /** Where frames and errors are counted for Prometheus (EngineOptions.metrics), or null. */
  readonly metrics: MetricsRecorder | null;
}

/** A session's options after defaults were applied. */
export type ResolvedSessionOptions = Readonly<Required<Omit<SessionOptions, 'peerCapabilities'>> & { peerCapabilities: Capabilities | null }>;

/** What a receiver decodes: `engine.capabilities()`, and SessionOptions.peerCapabilities of the sender. */
export interface Capabilities {
  /** Payload bitstream versions it reads (docs/bitstream.md). */
  bitstreamVersions: number[];
  /** Payload codecs it decodes. */
  codecs: PayloadCodec[];
  /** Model ids (FNV-1a of name@version) whose neural payloads it decodes; `inter`: its inter models (predicted frames). */
  models: { image: number[]; audio: number[]; inter?: number[] };
}

/** Mode, target, floor and quality aim in force for one frame, after network adaptation. */
export interface FrameSettings {
  mode: CompressionMode;
  target: number;
  floor: number;
  aim: number;
}
