// What a media path (image, audio) of a session shares with the session that owns it.
import type { SessionHost, SessionOptions } from './types.js';

export interface PathCounters {
  /** Frames whose neural path took longer than maxLatencyMs. */
  latencyBudgetExceeded: number;
  /** Decode-and-score passes of neural image frames, and how many such frames. */
  passes: number;
  neuralImageFrames: number;
}

export interface PathContext {
  readonly host: SessionHost;
  readonly options: Readonly<Required<SessionOptions>>;
  readonly counters: PathCounters;
}
