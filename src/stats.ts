// Running distributions for session statistics: lifetime mean plus percentiles over a window of
// the most recent values (a fixed ring, so a long session costs constant memory).

export interface DistributionSummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export class Distribution {
  readonly #ring: Float64Array;
  #next = 0;
  #filled = 0;
  #count = 0;
  #sum = 0;
  #max = -Infinity;

  constructor(window = 2048) {
    this.#ring = new Float64Array(window);
  }

  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.#ring[this.#next] = value;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#filled = Math.min(this.#filled + 1, this.#ring.length);
    this.#count++;
    this.#sum += value;
    this.#max = Math.max(this.#max, value);
  }

  get count(): number {
    return this.#count;
  }

  summary(): DistributionSummary {
    if (this.#filled === 0) return { count: 0, mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN };
    const sorted = Float64Array.from(this.#ring.subarray(0, this.#filled)).sort();
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
    return { count: this.#count, mean: this.#sum / this.#count, p50: at(50), p95: at(95), p99: at(99), max: this.#max };
  }
}

/** Exponential moving average that starts at its first value. */
export class Ema {
  #value = NaN;
  constructor(readonly alpha: number) {}
  add(v: number): void {
    if (!Number.isFinite(v)) return;
    this.#value = Number.isNaN(this.#value) ? v : this.#value + this.alpha * (v - this.#value);
  }
  /** Replaces the average (a known jump, e.g. a scene change). */
  set(v: number): void {
    if (Number.isFinite(v)) this.#value = v;
  }
  get value(): number {
    return this.#value;
  }
  get known(): boolean {
    return !Number.isNaN(this.#value);
  }
}
