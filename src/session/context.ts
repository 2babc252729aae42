// What a media path (image, audio) of a session shares with the session that owns it.
import type { PayloadCodec, ResolvedSessionOptions, SessionHost } from './types.js';

export interface PathCounters {
  /** Frames whose neural path took longer than maxLatencyMs. */
  latencyBudgetExceeded: number;
  /** Decode-and-score passes of neural image frames, and how many such frames. */
  passes: number;
  neuralImageFrames: number;
}

export interface PathContext {
  readonly host: SessionHost;
  readonly options: ResolvedSessionOptions;
  readonly counters: PathCounters;
  /** The codecs the peer decodes (every codec when the session was not told the peer's capabilities). */
  readonly acceptedCodecs: ReadonlySet<string>;
  /** Whether the peer decodes `codec` (and, for a neural codec, the model of that id). */
  accepts(codec: PayloadCodec, modelId?: number): boolean;
  /** Whether the peer reads bitstream version `v` (every version this build writes when the session was not told). */
  reads(version: number): boolean;
}
