// The library's Prometheus metrics (issue 15, part 1): the guide's names and labels on the
// caller's prom-client registry, counting real frames of a real engine, and recording a frame
// allocates nothing (bench/metrics-alloc.mjs, run here at a smaller size).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AicError, AicMetrics, createEngine, METRIC_NAMES, type Engine } from '../src/index.js';

const root = path.resolve(__dirname, '..');
let registry: Registry;
let metrics: AicMetrics;
let engine: Engine;

beforeAll(async () => {
  registry = new Registry();
  metrics = new AicMetrics({ registry });
  engine = await createEngine({ executionProvider: 'cpu', metrics });
});
afterAll(async () => engine?.close());

/** The value of one series in the exposition text, or undefined. */
function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries((m[3] ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]).map(([k, v]) => [k, v.replace(/^"|"$/g, '')]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v) && Object.keys(got).length === Object.keys(labels).length) return Number(m[4]);
  }
  return undefined;
}

function videoFrame(width = 96, height = 64) {
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 8) * 7) & 255;
  return { type: 'video' as const, format: 'rgb24' as const, width, height, data };
}

describe('Prometheus metrics', () => {
  it('counts real frames under the guide names and labels', async () => {
    const tx = engine.openSession({ mode: 'adaptive', maxLatencyMs: Infinity });
    const rx = engine.openSession();
    let saved = 0;
    const results = [];
    for (let i = 0; i < 4; i++) {
      const r = await tx.compressFrame(videoFrame());
      results.push(r);
      saved += Math.max(0, r.originalBytes - r.compressedBytes);
      await rx.decompressFrame(r.payload);
    }
    const text = await registry.metrics();
    for (const name of METRIC_NAMES.filter((n) => n !== 'aic_gpu_utilization_percent')) expect(text).toContain(`# TYPE ${name} `);
    // On CPU the GPU metric is absent, not zero.
    expect(text).not.toContain('aic_gpu_utilization_percent');
    const byStatus = (s: string) => results.filter((r) => r.status === s).length;
    for (const s of ['success', 'fallback', 'quality_threshold_not_met']) expect(series(text, 'aic_requests_total', { status: s }) ?? 0).toBe(byStatus(s));
    expect(series(text, 'aic_compression_ratio_count', { mode: 'adaptive' })).toBe(4);
    expect(series(text, 'aic_compression_ratio_sum', { mode: 'adaptive' })).toBeCloseTo(results.reduce((a, r) => a + r.compressionRatio, 0), 9);
    expect(series(text, 'aic_quality_score_count', { mode: 'adaptive' })).toBe(4);
    expect(series(text, 'aic_quality_score_bucket', { le: '+Inf', mode: 'adaptive' })).toBe(4);
    const models = new Set(results.map((r) => (r.codec === 'neural-image' ? engine.info().codecs.image!.name : r.codec === 'stored' || r.codec === 'deflate' ? 'lossless' : r.codec)));
    let latencyCount = 0;
    for (const model of models) latencyCount += series(text, 'aic_inference_latency_ms_count', { model }) ?? 0;
    expect(latencyCount).toBe(4);
    // Buckets are cumulative and the 20 ms budget is a bound.
    expect(text).toMatch(/aic_inference_latency_ms_bucket\{le="20",model="[^"]+"\}/);
    expect(series(text, 'aic_bandwidth_saved_bytes_total')).toBe(saved);
    expect(series(text, 'aic_active_sessions')).toBe(2);
    expect(series(text, 'aic_memory_usage_bytes')).toBeGreaterThan(10 * 1024 * 1024);
    tx.close();
    rx.close();
    expect(series(await registry.metrics(), 'aic_active_sessions')).toBe(0);
  });

  it('counts failed calls by error code, and fallbacks by reason', async () => {
    const s = engine.openSession({ mode: 'aggressive', maxLatencyMs: Infinity });
    await expect(s.compressFrame({ type: 'video', format: 'rgb24', width: 4, height: 4, data: Buffer.alloc(5) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(engine.decompressFrame(Buffer.from('not a payload at all'))).rejects.toMatchObject({ code: 'CORRUPT_PAYLOAD' });
    metrics.recordFallback('unreachable');
    metrics.recordFailure('timeout', 'DEADLINE_EXCEEDED');
    const text = await registry.metrics();
    expect(series(text, 'aic_requests_total', { status: 'error' })).toBe(1);
    expect(series(text, 'aic_requests_total', { status: 'timeout' })).toBe(1);
    expect(series(text, 'aic_errors_total', { type: 'INVALID_ARGUMENT' })).toBe(1);
    expect(series(text, 'aic_errors_total', { type: 'CORRUPT_PAYLOAD' })).toBe(1);
    expect(series(text, 'aic_errors_total', { type: 'DEADLINE_EXCEEDED' })).toBe(1);
    expect(series(text, 'aic_fallback_total', { reason: 'unreachable' })).toBe(1);
    s.close();
  });

  it('refuses a second set of the same metrics on one registry', () => {
    expect(() => new AicMetrics({ registry })).toThrow(AicError);
    const other = new AicMetrics({ registry: new Registry() });
    other.unregister();
    expect(other.registry.getMetricsAsArray()).toHaveLength(0);
  });

  it('records a frame without allocating (no young-generation collection over 300,000 frames, where prom-client has some)', () => {
    const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', path.join(root, 'bench', 'metrics-alloc.mjs'), '--frames', '300000'], { encoding: 'utf8' })) as {
      scavenges: { metricsRecorder: number; promClientHistogram: number };
    };
    expect(out.scavenges.promClientHistogram).toBeGreaterThan(0);
    expect(out.scavenges.metricsRecorder).toBe(0);
  });
});
