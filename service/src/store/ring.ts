// A bounded FIFO that makes room by dropping its oldest items, in O(1) per item.

export class Ring<T> {
  readonly capacity: number;
  readonly #buf: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('capacity must be a whole number >= 1');
    this.capacity = capacity;
    this.#buf = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends; returns how many old items were dropped to make room (0 or 1). */
  push(item: T): number {
    let dropped = 0;
    if (this.#size === this.capacity) {
      this.#buf[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.capacity;
      this.#size--;
      dropped = 1;
    }
    this.#buf[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
    return dropped;
  }

  /** Removes and returns up to n items from the oldest end. */
  take(n: number): T[] {
    const k = Math.min(n, this.#size);
    const out = new Array<T>(k);
    for (let i = 0; i < k; i++) {
      out[i] = this.#buf[this.#head] as T;
      this.#buf[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.capacity;
    }
    this.#size -= k;
    return out;
  }

  /**
   * Puts items taken earlier back at the oldest end, in their order. They are older than anything
   * queued since, so when there is no room for all of them the oldest of them are dropped;
   * returns how many.
   */
  unshift(items: readonly T[]): number {
    const room = this.capacity - this.#size;
    const keep = Math.min(room, items.length);
    for (let i = items.length - 1; i >= items.length - keep; i--) {
      this.#head = (this.#head - 1 + this.capacity) % this.capacity;
      this.#buf[this.#head] = items[i];
      this.#size++;
    }
    return items.length - keep;
  }
}
