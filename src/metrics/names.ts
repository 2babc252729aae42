// The Prometheus metrics this library exports, by the names and labels of the original AI Core
// (shared/GUIDE.md). One table, read by the metrics module that registers them, by the service
// and by the test that checks every Grafana query and alert rule names one of them.

export interface MetricSpec {
  /** Prometheus metric family name. */
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly labels: readonly string[];
}

export const METRICS = {
  compressionRatio: {
    name: 'aic_compression_ratio',
    type: 'histogram',
    help: 'Fraction of the raw frame bytes saved (1 - compressed/original), per frame, by the mode that coded it',
    labels: ['mode'],
  },
  inferenceLatency: {
    name: 'aic_inference_latency_ms',
    type: 'histogram',
    help: 'Time to compress one frame in milliseconds (network inference, entropy coding and the quality check), by model',
    labels: ['model'],
  },
  qualityScore: {
    name: 'aic_quality_score',
    type: 'histogram',
    help: 'Measured quality of each coded frame (SSIM for images, the audio score for audio) on the 0..1 scale, by mode',
    labels: ['mode'],
  },
  bandwidthSaved: {
    name: 'aic_bandwidth_saved_bytes_total',
    type: 'counter',
    help: 'Bytes not sent: raw frame bytes minus payload bytes, summed over compressed frames',
    labels: [],
  },
  requests: {
    name: 'aic_requests_total',
    type: 'counter',
    help: 'Frames handled, by outcome status (success, fallback, error, timeout, quality_threshold_not_met)',
    labels: ['status'],
  },
  fallbacks: {
    name: 'aic_fallback_total',
    type: 'counter',
    help: 'Frames sent by a fallback step instead of the neural codec, by reason',
    labels: ['reason'],
  },
  errors: {
    name: 'aic_errors_total',
    type: 'counter',
    help: 'Calls that threw an AicError, by error code',
    labels: ['type'],
  },
  activeSessions: {
    name: 'aic_active_sessions',
    type: 'gauge',
    help: 'Sessions open now',
    labels: [],
  },
  memoryUsage: {
    name: 'aic_memory_usage_bytes',
    type: 'gauge',
    help: 'Resident memory of this process in bytes',
    labels: [],
  },
  gpuUtilization: {
    name: 'aic_gpu_utilization_percent',
    type: 'gauge',
    help: 'Utilisation of the GPU the engine runs on, read from NVML; exported only when an engine runs on CUDA',
    labels: ['gpu'],
  },
} as const satisfies Record<string, MetricSpec>;

/** Every metric family name this library can export. */
export const METRIC_NAMES: readonly string[] = Object.values(METRICS).map((m) => m.name);
