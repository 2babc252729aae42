// What recording a frame in the Prometheus metrics costs the garbage collector: young-generation
// collections (scavenges) over 1,000,000 frames recorded by the library's MetricsRecorder (three
// histograms and two counters per frame, src/metrics/recorder.ts), against prom-client's own
// Histogram fed the same frames through labels().observe() (one histogram), in the same process.
// Fewer scavenges = less garbage per frame. Prints JSON.
//   node --expose-gc bench/metrics-alloc.mjs [--frames N]
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { MetricsRecorder } = require('../dist/metrics/recorder.js');
const { Histogram, Registry } = require('prom-client');

const framesArg = process.argv.indexOf('--frames');
const N = framesArg > 0 ? Number(process.argv[framesArg + 1]) : 1_000_000;
// Results shaped as compressFrame() returns them, with varied values.
const results = Array.from({ length: 1000 }, (_, i) => ({
  mode: ['adaptive', 'aggressive', 'conservative'][i % 3],
  status: i % 10 ? 'success' : 'fallback',
  fallbackReason: i % 10 ? undefined : 'quality',
  compressionRatio: 0.7 + (i % 29) / 100,
  quality: { score: 0.88 + (i % 11) / 100 },
  timings: { totalMs: 4 + (i % 37) * 0.7 },
  originalBytes: 921600,
  compressedBytes: 40000 + i * 13,
}));

let scavenges = 0;
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
});
observer.observe({ entryTypes: ['gc'] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

async function measure(record) {
  for (let i = 0; i < 50_000; i++) record(results[i % 1000]); // warm up (optimised code)
  globalThis.gc?.();
  await settle();
  const before = scavenges;
  for (let i = 0; i < N; i++) record(results[i % 1000]);
  await settle();
  return scavenges - before;
}

const recorder = new MetricsRecorder();
const ours = await measure((r) => recorder.frame(r, 'aic-image-v1'));
const histogram = new Histogram({ name: 'aic_bench_ratio', help: 'bench', labelNames: ['mode'], buckets: [0, 0.5, 0.8, 0.9, 0.95], registers: [new Registry()] });
const theirs = await measure((r) => histogram.labels(r.mode).observe(r.compressionRatio));
const empty = await measure(() => {});
observer.disconnect();
const out = { frames: N, scavenges: { metricsRecorder: ours, promClientHistogram: theirs, emptyLoop: empty }, ratio: theirs / Math.max(1, ours) };
console.log(JSON.stringify(out, null, 2));
