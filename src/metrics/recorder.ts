// The counts behind the Prometheus metrics, kept in preallocated typed arrays so that recording a
// frame allocates nothing: a server coding thousands of frames a second must not feed the garbage
// collector to be observable. prom-client reads these arrays only when scraped
// (src/metrics/prometheus.ts). test/metrics.test.ts counts the collections a million frames
// cause: none, where prom-client's own labels().observe() causes several.
import { AicError } from '../errors.js';

/** Label values seen, each with a stable index; a new value allocates once, on first sight. */
export class LabelIndex {
  readonly #index = new Map<string, number>();
  readonly values: string[] = [];

  constructor(
    initial: readonly string[],
    readonly limit = 64,
  ) {
    for (const v of initial) this.of(v);
  }

  /** The value's index; past `limit` distinct values everything else counts under 'other'. */
  of(value: string): number {
    const i = this.#index.get(value);
    if (i !== undefined) return i;
    if (this.values.length >= this.limit && value !== 'other') return this.of('other');
    this.#index.set(value, this.values.length);
    this.values.push(value);
    return this.values.length - 1;
  }
}

export const OUTCOME_RATIO = 0;
export const OUTCOME_QUALITY = 1;
export const OUTCOME_LATENCY = 2;

/** A histogram over fixed bucket bounds, one row of counts per label value. */
export class FixedHistogram {
  // Row l holds label l's counts: one per bucket (the last is +Inf), then its sum, then its count.
  // One flat typed array, so that observing reads and writes numbers in place and boxes none.
  #rows = new Float64Array(0);
  readonly #stride: number;

  constructor(
    readonly bounds: readonly number[],
    readonly labels: LabelIndex,
  ) {
    this.#stride = bounds.length + 3;
  }

  /**
   * Observes one of a frame's measures (OUTCOME_RATIO, OUTCOME_QUALITY, OUTCOME_LATENCY), read
   * here rather than passed in: a double passed to a call that V8 does not inline is boxed into a
   * new heap number, and frame() makes three such calls per frame.
   */
  observeOutcome(label: number, r: FrameOutcome, field: number): void {
    const value = field === OUTCOME_RATIO ? r.compressionRatio : field === OUTCOME_QUALITY ? r.quality.score : r.timings.totalMs;
    if (!(value === value) || value === Infinity || value === -Infinity) return;
    const row = this.#row(label);
    const rows = this.#rows;
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    while (i < n && value > b[i]!) i++;
    rows[row + i]!++;
    rows[row + n + 1]! += value;
    rows[row + n + 2]!++;
  }

  /** The offset of label's row, growing the table the first time a label value is seen. */
  #row(label: number): number {
    const stride = this.#stride;
    if ((label + 1) * stride > this.#rows.length) {
      const grown = new Float64Array(Math.max(label + 1, (this.#rows.length / stride) * 2, 4) * stride);
      grown.set(this.#rows);
      this.#rows = grown;
    }
    return label * stride;
  }

  observe(label: number, value: number): void {
    if (!(value === value) || value === Infinity || value === -Infinity) return;
    const base = this.#row(label);
    const rows = this.#rows;
    const b = this.bounds;
    const n = b.length;
    let i = 0;
    while (i < n && value > b[i]!) i++;
    rows[base + i]!++;
    rows[base + n + 1]! += value;
    rows[base + n + 2]!++;
  }

  /** For the scrape: each label value with its cumulative bucket counts, sum and count. */
  snapshot(): { label: string; cumulative: number[]; sum: number; count: number }[] {
    const out = [];
    const n = this.bounds.length;
    for (let l = 0; (l + 1) * this.#stride <= this.#rows.length && l < this.labels.values.length; l++) {
      const base = l * this.#stride;
      const count = this.#rows[base + n + 2]!;
      if (count === 0) continue;
      const cumulative: number[] = [];
      let acc = 0;
      for (let i = 0; i <= n; i++) cumulative.push((acc += this.#rows[base + i]!));
      out.push({ label: this.labels.values[l]!, cumulative, sum: this.#rows[base + n + 1]!, count });
    }
    return out;
  }
}

/** A counter per label value. */
export class LabelledCounter {
  #values = new Float64Array(8);

  constructor(readonly labels: LabelIndex) {}

  inc(label: number, by = 1): void {
    if (label >= this.#values.length) {
      const grown = new Float64Array(Math.max(label + 1, this.#values.length * 2));
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[label]! += by;
  }

  snapshot(): { label: string; value: number }[] {
    const out = [];
    for (let l = 0; l < this.labels.values.length; l++) {
      const v = this.#values[l] ?? 0;
      if (v > 0) out.push({ label: this.labels.values[l]!, value: v });
    }
    return out;
  }
}

/** Bucket bounds around a 20 ms frame budget (milliseconds). */
export const LATENCY_BUCKETS_MS = [1, 2.5, 5, 7.5, 10, 12.5, 15, 17.5, 20, 25, 30, 40, 50, 75, 100, 150, 250, 500, 1000] as const;
/** Bucket bounds of the compression ratio (1 - compressed/original), dense where targets sit. */
export const RATIO_BUCKETS = [0, 0.25, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98, 0.99] as const;
/** Bucket bounds of the quality score, dense around the floors of the modes (0.85-0.97). */
export const QUALITY_BUCKETS = [0.5, 0.7, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99, 1] as const;

/** Request statuses of the guide; 'error' and 'timeout' are calls that produced no result. */
export const REQUEST_STATUSES = ['success', 'fallback', 'error', 'timeout', 'quality_threshold_not_met'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

/** The fields of a CompressResult the metrics read. */
export interface FrameOutcome {
  readonly mode: string;
  readonly status: string;
  readonly fallbackReason?: string | undefined;
  readonly compressionRatio: number;
  readonly quality: { readonly score: number };
  readonly timings: { readonly totalMs: number };
  readonly originalBytes: number;
  readonly compressedBytes: number;
}

/** Everything the metrics count, shared by the engines that report to one AicMetrics. */
export class MetricsRecorder {
  readonly modes = new LabelIndex(['off', 'conservative', 'adaptive', 'aggressive']);
  readonly models = new LabelIndex([]);
  readonly statuses = new LabelIndex(REQUEST_STATUSES);
  readonly reasons = new LabelIndex(['quality', 'latency', 'error', 'model_unavailable']);
  readonly errorTypes = new LabelIndex([]);

  readonly ratio = new FixedHistogram(RATIO_BUCKETS, this.modes);
  readonly latency = new FixedHistogram(LATENCY_BUCKETS_MS, this.models);
  readonly quality = new FixedHistogram(QUALITY_BUCKETS, this.modes);
  readonly requests = new LabelledCounter(this.statuses);
  readonly fallbacks = new LabelledCounter(this.reasons);
  readonly errors = new LabelledCounter(this.errorTypes);

  /**
   * One coded frame. `model` names what coded it: the neural model's name, or the conventional
   * codec (webp, jpeg, opus) or 'lossless' for the ladder's other steps.
   */
  frame(r: FrameOutcome, model: string): void {
    const m = this.modes.of(r.mode);
    this.ratio.observeOutcome(m, r, OUTCOME_RATIO);
    this.quality.observeOutcome(m, r, OUTCOME_QUALITY);
    this.latency.observeOutcome(this.models.of(model), r, OUTCOME_LATENCY);
    this.requests.inc(this.statuses.of(r.status));
    if (r.fallbackReason !== undefined) this.fallbacks.inc(this.reasons.of(r.fallbackReason));
    if (r.originalBytes > r.compressedBytes) this.#saved[0]! += r.originalBytes - r.compressedBytes;
  }

  /** Raw bytes minus payload bytes, summed over frames. */
  get bandwidthSavedBytes(): number {
    return this.#saved[0]!;
  }

  readonly #saved = new Float64Array(1);

  /** A call that produced no result: counted as a request of that status and an error of that type. */
  failure(status: 'error' | 'timeout', errorType: string): void {
    this.requests.inc(this.statuses.of(status));
    this.errors.inc(this.errorTypes.of(errorType));
  }

  /** A call that failed outside the request count (a decode): counted as an error of that type. */
  error(errorType: string): void {
    this.errors.inc(this.errorTypes.of(errorType));
  }

  /**
   * Rejection handlers of the calls that report here, made once so that attaching one allocates
   * no closure per call: each counts the error by its AicError code and rethrows it as AicError.
   * rethrowFailure is compressFrame()'s (a request with status 'error'), rethrowError a decode's.
   */
  readonly rethrowFailure = (error: unknown): never => {
    const e = AicError.from(error);
    this.failure('error', e.code);
    throw e;
  };

  readonly rethrowError = (error: unknown): never => {
    const e = AicError.from(error);
    this.error(e.code);
    throw e;
  };

  /** A fallback taken outside a session's ladder (the AI Core client's local fallback). */
  fallback(reason: string): void {
    this.fallbacks.inc(this.reasons.of(reason));
  }
}
