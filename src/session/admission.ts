// Backpressure: the engine accepts a bounded number of frames at once (compressFrame,
// decompressFrame and concealFrame across all its sessions). A call that finds the engine full is
// refused before its frame is accepted (RESOURCE_EXHAUSTED: the caller still holds it and decides
// what to drop), or, when it asked to, waits for a slot in the order it called. A frame once
// accepted always yields its result.
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

  release(): void {
    const next = this.#waiters.shift();
    if (next) next(); // the slot passes straight to the longest waiter
    else this.#inFlight--;
  }
}
