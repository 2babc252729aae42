// The AI Core client as a media server uses it (issue 15, part 4): frames served by a real AI Core;
// when it is unreachable or late, coded locally with the reason counted, and a request the service
// refuses as malformed is an error, not a fallback.
import { createServer } from 'node:net';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AicError, AicMetrics, createClient, createEngine, type Engine } from '@auralink/aic';
import type { RunningService } from '../src/service.js';
import { signToken, startTestService } from './helpers/service.js';

const SECRET = 'client-test-secret-long-enough-for-hs256';
let service: RunningService;
let local: Engine;
let token: string;

function frame(width = 128, height = 96) {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = Math.round(120 + 90 * Math.sin(x / 9 + c) * Math.cos(y / 13));
  return { type: 'video' as const, format: 'rgb24' as const, width, height, data };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  service = await startTestService({ secret: SECRET });
  local = await createEngine({ executionProvider: 'cpu' });
  token = await signToken(SECRET, 'sfu-user');
});

afterAll(async () => {
  await service?.close();
  await local?.close();
});

describe('createClient()', () => {
  it('has frames coded by the AI Core, and the payloads decode anywhere', async () => {
    const client = await createClient({ endpoint: `127.0.0.1:${service.grpcPort}`, plaintext: true, token, requestTimeoutMs: 30_000, local });
    const s = client.openSession({ mode: 'adaptive' });
    const r = await s.compressFrame(frame());
    expect(r.servedBy).toBe('ai-core');
    expect(r.compressedBytes).toBe(r.payload.length);
    expect(r.compressionRatio).toBeGreaterThan(0.5);
    const viaService = await s.decompressFrame(r.payload);
    const viaLocal = await local.decompressFrame(r.payload);
    expect(viaService.width).toBe(128);
    expect(Buffer.compare(viaService.data, viaLocal.data)).toBe(0);
    expect(client.stats).toMatchObject({ remote: 2, local: 0 });
    // Closing the session ends it on the AI Core too (EndSession), not after the idle timeout.
    const open = service.core.activeSessions;
    expect(open).toBeGreaterThanOrEqual(2);
    s.close();
    for (let i = 0; i < 100 && service.core.activeSessions > open - 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(service.core.activeSessions).toBe(open - 2);
    await client.close();
  });

  it('codes locally when the AI Core is unreachable, counts it, and stops asking after retryAttempts', async () => {
    const registry = new Registry();
    const metrics = new AicMetrics({ registry });
    const client = await createClient({ endpoint: `127.0.0.1:${await deadPort()}`, plaintext: true, token, requestTimeoutMs: 2000, retryAttempts: 2, connectionTimeoutMs: 60_000, local, metrics });
    const s = client.openSession({ mode: 'adaptive', maxLatencyMs: Infinity });
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await s.compressFrame(frame()));
    for (const r of results) {
      expect(r.servedBy).toBe('local');
      expect(r.clientFallbackReason).toBe('unreachable');
      expect((await local.decompressFrame(r.payload)).width).toBe(128);
    }
    expect(client.stats.fallbacks.unreachable).toBe(5);
    expect(client.stats.breaker).toBe('open');
    expect(await registry.metrics()).toMatch(/aic_fallback_total\{reason="client_unreachable"\} 5/);
    s.close();
    await client.close();
    metrics.unregister();
  });

  it('codes locally when the AI Core is late (past requestTimeoutMs)', async () => {
    const client = await createClient({ endpoint: `127.0.0.1:${service.grpcPort}`, plaintext: true, token, requestTimeoutMs: 1, local });
    const s = client.openSession({ mode: 'adaptive', maxLatencyMs: Infinity });
    const r = await s.compressFrame(frame(256, 192));
    expect(r.servedBy).toBe('local');
    expect(r.clientFallbackReason).toBe('timeout');
    expect(client.stats.fallbacks.timeout).toBe(1);
    s.close();
    await client.close();
  });

  it('throws for a request the AI Core refuses as malformed, without falling back', async () => {
    const client = await createClient({ endpoint: `127.0.0.1:${service.grpcPort}`, plaintext: true, token, requestTimeoutMs: 30_000, local });
    const s = client.openSession();
    const bad = { type: 'video' as const, format: 'rgb24' as const, width: 10, height: 10, data: Buffer.alloc(7) };
    const e = await s.compressFrame(bad).catch((x) => x);
    expect(e).toBeInstanceOf(AicError);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(client.stats.local).toBe(0);
    await client.close();
  });

  it('rejects bad options with INVALID_ARGUMENT', async () => {
    await expect(createClient({ requestTimeoutMs: -1, plaintext: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
