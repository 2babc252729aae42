// Backpressure: the engine accepts a bounded number of frames at once (compressFrame,
// decompressFrame and concealFrame across all its sessions). A call that finds the engine full is
// refused before its frame is accepted (RESOURCE_EXHAUSTED: the caller still holds it and decides
// what to drop), or, when it asked to, waits for a slot in the order it called. A frame once
// accepted always yields its result.
import { AicError } from '../errors.js';

export class Admission {
  readonly max: number;
  #inFlight = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(max: number) {
    this.max = max;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes a slot if one is free. */
  tryAcquire(): boolean {
    if (this.#inFlight >= this.max || this.#waiters.length > 0) return false;
    this.#inFlight++;
    return true;
  }

  /** A slot, when one frees (first come, first served). */
  acquire(): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Runs `task` in a slot, freed when it settles: at once when one is free; else refused with
   * RESOURCE_EXHAUSTED before anything is accepted, or, with whenBusy 'wait', once a slot frees
   * (`wait` lets the caller order its own waits: a session chains them so its frames keep order).
   * `what` names the thing refused ('frame', 'payload') in the message.
   */
  admit<T>(whenBusy: unknown, what: string, task: () => Promise<T>, wait: (acquire: () => Promise<void>) => Promise<void> = (acquire) => acquire()): Promise<T> {
    if (whenBusy !== 'reject' && whenBusy !== 'wait') throw new AicError('INVALID_ARGUMENT', `options.whenBusy must be 'reject' or 'wait', got ${JSON.stringify(whenBusy)}`);
    const run = () => task().finally(() => this.release());
    if (this.tryAcquire()) return run();
    if (whenBusy === 'reject') {
      throw new AicError('RESOURCE_EXHAUSTED', `the engine has ${this.max} frames in flight (maxInFlight); the ${what} was not accepted: retry later, drop it, or pass { whenBusy: 'wait' }`);
    }
    return wait(() => this.acquire()).then(run);
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next(); // the slot passes straight to the longest waiter
    else this.#inFlight--;
  }
}
