// A real Prometheus (Debian's `prometheus`, which CI installs) scrapes the running service's
// /metrics and answers queries over what it scraped: the metric names, labels and values the
// library exports reach an operator's Prometheus as they are.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../src/service.js';
import { startTestService } from './helpers/service.js';

const binary = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p));
const required = process.env.AIC_REQUIRE_PROMTOOL === '1';
const dir = mkdtempSync(path.join(tmpdir(), 'aic-prom-'));
let service: RunningService;
let prometheus: ChildProcess | undefined;
let promPort = 0;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return body.status === 'success' ? body.data.result : [];
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  if (!binary) return;
  service = await startTestService({ disabled: true });
  promPort = await freePort();
  writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: aic\n    static_configs:\n      - targets: ['127.0.0.1:${service.httpPort}']\n`,
  );
  prometheus = spawn(binary, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
});

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!binary && !required)('scraped by a real Prometheus', () => {
  it('sees the service up and the frames it coded, by status and mode', async () => {
    expect(binary, 'Debian prometheus is not installed (apt-get install prometheus)').toBeDefined();
    const frame = { type: 'video' as const, format: 'rgb24' as const, width: 64, height: 48, data: Buffer.alloc(64 * 48 * 3, 120) };
    for (let i = 0; i < 3; i++) await service.core.compress('user-p', 'prom', frame, {});
    const up = await until('up{job="aic"} == 1', async () => {
      const r = await query('up{job="aic"}');
      return r[0]?.value[1] === '1' ? r : undefined;
    });
    expect(up).toHaveLength(1);
    // Prometheus has the counts the service exports: 3 frames by status, a histogram per mode.
    const requests = await until('aic_requests_total', async () => {
      const r = await query('sum(aic_requests_total{job="aic"})');
      return r[0] && Number(r[0].value[1]) >= 3 ? r : undefined;
    });
    expect(Number(requests[0]!.value[1])).toBe(3);
    const ratio = await query('aic_compression_ratio_count{job="aic"}');
    expect(ratio.map((r) => r.metric.mode)).toContain('adaptive');
    const p95 = await query('histogram_quantile(0.95, sum by (le) (aic_inference_latency_ms_bucket{job="aic"}))');
    expect(Number(p95[0]?.value[1])).toBeGreaterThan(0);
    const sessions = await query('aic_active_sessions{job="aic"}');
    expect(Number(sessions[0]?.value[1])).toBeGreaterThanOrEqual(1);
  }, 90_000);
});
