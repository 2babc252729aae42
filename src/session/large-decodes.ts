// A lane of its own for decodes of large declared output.
//
// Every native decode runs on libuv's thread pool (4 workers unless UV_THREADPOOL_SIZE says
// otherwise), which the engine's encodes, sharp and zlib share. A frame at the decoder limits
// (16 Mpixel by default) takes seconds to decode, so four such payloads from one peer would hold
// every worker and the next 20 ms audio frame would wait behind them. Decodes whose header
// declares more than `overBytes` of output therefore take turns here, at most `concurrency` at
// once per engine; everything smaller never waits for them. The header has been checked against
// the decoder limits first, so what waits here is bounded too.
import { AicError } from '../errors.js';

export interface LargeDecodeOptions {
  /** A decode whose declared output is over this many bytes is large (default 8 MiB: a 1080p RGBA frame is under it). */
  overBytes?: number;
  /** Large decodes that may run at once per engine (default 1), the rest wait their turn in order. */
  concurrency?: number;
}

export const DEFAULT_LARGE_DECODES: Readonly<Required<LargeDecodeOptions>> = Object.freeze({ overBytes: 8 * 1024 * 1024, concurrency: 1 });

export class LargeDecodeLane {
  readonly overBytes: number;
  readonly concurrency: number;
  #running = 0;
  readonly #waiting: Array<() => void> = [];
  // The most that ever ran at once: lets tests (and stats) see the bound held.
  #peak = 0;

  constructor(given: unknown) {
    if (given !== undefined && (given === null || typeof given !== 'object')) {
      throw new AicError('INVALID_ARGUMENT', 'options.largeDecodes must be an object { overBytes, concurrency }');
    }
    const o = (given ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      if (key !== 'overBytes' && key !== 'concurrency') throw new AicError('INVALID_ARGUMENT', `options.largeDecodes.${key} is not an option (overBytes, concurrency)`);
    }
    const overBytes = o.overBytes ?? DEFAULT_LARGE_DECODES.overBytes;
    const concurrency = o.concurrency ?? DEFAULT_LARGE_DECODES.concurrency;
    if (typeof overBytes !== 'number' || !Number.isInteger(overBytes) || overBytes < 0) {
      throw new AicError('INVALID_ARGUMENT', `options.largeDecodes.overBytes must be a non-negative integer number of bytes, got ${String(overBytes)}`);
    }
    if (typeof concurrency !== 'number' || !Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new AicError('INVALID_ARGUMENT', `options.largeDecodes.concurrency must be an integer from 1 to 64, got ${String(concurrency)}`);
    }
    this.overBytes = overBytes;
    this.concurrency = concurrency;
  }

  /** Large decodes running and waiting now, and the most that ever ran at once. */
  state(): { running: number; waiting: number; peakRunning: number } {
    return { running: this.#running, waiting: this.#waiting.length, peakRunning: this.#peak };
  }

  /** Runs `decode` now if it is small, else in its turn. */
  async run<T>(declaredBytes: number, decode: () => Promise<T>): Promise<T> {
    if (declaredBytes <= this.overBytes) return decode();
    if (this.#running >= this.concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else this.#running++;
    this.#peak = Math.max(this.#peak, this.#running);
    try {
      return await decode();
    } finally {
      // Hand the slot straight to the next in line (the count stays), or free it.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
