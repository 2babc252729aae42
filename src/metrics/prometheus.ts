// The library's Prometheus metrics (src/metrics/names.ts) on a prom-client registry: the caller's,
// or prom-client's default one. Frames are counted in a MetricsRecorder (typed arrays, nothing
// allocated per frame); prom-client reads it when scraped. Counters and gauges are prom-client's
// own, filled by their collect() hook; the three histograms are small objects of prom-client's
// metric shape, since prom-client's Histogram can only be fed one observation at a time, through
// label objects it hashes per call.
import type { Gauge as GaugeType, Metric, Registry } from 'prom-client';
import { AicError } from '../errors.js';
import { METRICS, type MetricSpec } from './names.js';
import { MetricsRecorder, type FixedHistogram, type LabelledCounter } from './recorder.js';

// prom-client (and @opentelemetry/api with it) loads with the first AicMetrics, not with the
// package: together they are a third of the package's load time (26 ms here), and an engine
// without metrics never needs them.
type PromClient = typeof import('prom-client');
let promClient: PromClient | undefined;
function prom(): PromClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  promClient ??= require('prom-client') as PromClient;
  return promClient;
}

export interface MetricsOptions {
  /** Where to register the metrics; default prom-client's global `register`. */
  registry?: Registry;
}

/** A histogram of prom-client's metric shape whose values come from a FixedHistogram at scrape time. */
class SnapshotHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;

  constructor(
    spec: MetricSpec,
    private readonly label: string,
    private readonly source: FixedHistogram,
  ) {
    this.name = spec.name;
    this.help = spec.help;
  }

  async get() {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const row of this.source.snapshot()) {
      this.source.bounds.forEach((le, i) => values.push({ metricName: `${this.name}_bucket`, labels: { le, [this.label]: row.label }, value: row.cumulative[i]! }));
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', [this.label]: row.label }, value: row.count });
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: row.label }, value: row.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: row.label }, value: row.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    // The counts are the recorder's; a registry reset leaves them (Prometheus counters never go back).
  }
}

/**
 * The library's metrics on one registry. Pass it to createEngine({ metrics }) (one AicMetrics may
 * serve several engines); the service adds request outcomes of its own (recordFailure).
 */
export class AicMetrics {
  readonly registry: Registry;
  /** The counts, for tests and for embedders that export elsewhere. */
  readonly recorder = new MetricsRecorder();
  readonly #sessionSources = new Set<() => number>();
  readonly #gpuSources = new Set<() => { gpu: string; percent: number } | null>();

  constructor(options: MetricsOptions = {}) {
    const { Counter, Gauge, register: defaultRegistry } = prom();
    this.registry = options.registry ?? defaultRegistry;
    for (const spec of Object.values(METRICS)) {
      if (this.registry.getSingleMetric(spec.name)) {
        throw new AicError(
          'INVALID_ARGUMENT',
          `the registry already has a metric named ${spec.name}: create one AicMetrics per registry and pass it to every engine (createEngine({ metrics }))`,
        );
      }
    }
    const r = this.recorder;
    const histogram = (spec: MetricSpec, source: FixedHistogram) => this.registry.registerMetric(new SnapshotHistogram(spec, spec.labels[0]!, source) as unknown as Metric);
    histogram(METRICS.compressionRatio, r.ratio);
    histogram(METRICS.inferenceLatency, r.latency);
    histogram(METRICS.qualityScore, r.quality);

    const counter = (spec: MetricSpec, source: LabelledCounter) =>
      new Counter({
        name: spec.name,
        help: spec.help,
        labelNames: spec.labels,
        registers: [this.registry],
        collect() {
          this.reset();
          for (const { label, value } of source.snapshot()) this.inc({ [spec.labels[0]!]: label }, value);
        },
      });
    counter(METRICS.requests, r.requests);
    counter(METRICS.fallbacks, r.fallbacks);
    counter(METRICS.errors, r.errors);
    new Counter({
      name: METRICS.bandwidthSaved.name,
      help: METRICS.bandwidthSaved.help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(r.bandwidthSavedBytes);
      },
    });
    const sessions = this.#sessionSources;
    new Gauge({
      name: METRICS.activeSessions.name,
      help: METRICS.activeSessions.help,
      registers: [this.registry],
      collect() {
        let open = 0;
        for (const count of sessions) open += count();
        this.set(open);
      },
    });
    new Gauge({
      name: METRICS.memoryUsage.name,
      help: METRICS.memoryUsage.help,
      registers: [this.registry],
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
    const gpus = this.#gpuSources;
    const registry = this.registry;
    let gpuGauge: GaugeType | undefined;
    // Registered only while an engine runs on a GPU: on CPU the metric is absent, not zero.
    this.#syncGpu = () => {
      if (gpus.size > 0 && !gpuGauge) {
        gpuGauge = new Gauge({
          name: METRICS.gpuUtilization.name,
          help: METRICS.gpuUtilization.help,
          labelNames: METRICS.gpuUtilization.labels,
          registers: [registry],
          collect() {
            this.reset();
            for (const read of gpus) {
              const u = read();
              if (u) this.set({ gpu: u.gpu }, u.percent);
            }
          },
        });
      } else if (gpus.size === 0 && gpuGauge) {
        registry.removeSingleMetric(METRICS.gpuUtilization.name);
        gpuGauge = undefined;
      }
    };
  }

  readonly #syncGpu: () => void;

  /** A call that produced no result ('error', or 'timeout' past its deadline), by error code. */
  recordFailure(status: 'error' | 'timeout', errorType: string): void {
    this.recorder.failure(status, errorType);
  }

  /** A fallback decided outside a session (the AI Core client's local fallback), by reason. */
  recordFallback(reason: string): void {
    this.recorder.fallback(reason);
  }

  /** @internal An engine's open-session count; returns the function that detaches it. */
  attachSessions(count: () => number): () => void {
    this.#sessionSources.add(count);
    return () => this.#sessionSources.delete(count);
  }

  /** @internal A GPU utilisation reader (an engine on CUDA); returns the function that detaches it. */
  attachGpu(read: () => { gpu: string; percent: number } | null): () => void {
    this.#gpuSources.add(read);
    this.#syncGpu();
    return () => {
      this.#gpuSources.delete(read);
      this.#syncGpu();
    };
  }

  /** Takes every metric of this instance off its registry. */
  unregister(): void {
    for (const spec of Object.values(METRICS)) this.registry.removeSingleMetric(spec.name);
  }
}
