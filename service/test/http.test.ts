// The HTTP API as an operator and a user's app call it: health split into liveness and readiness,
// Bearer-token auth, each user's configuration and metrics (two users: neither sees the other's),
// and bad requests answered with a status and a message. On the embedded database (PGlite) with the
// same migrations and row-level security as a PostgreSQL server (store.test.ts runs both).
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Persistence } from '../src/persistence.js';
import type { RunningService } from '../src/service.js';
import { signToken, startTestService } from './helpers/service.js';
import { openStore } from '../src/store/index.js';

const SECRET = 'http-test-secret-long-enough-for-hs256';
let service: RunningService;
let persistence: Persistence;
let base: string;
const sign = (sub: string) => signToken(SECRET, sub);

async function get(path: string, token?: string) {
  const res = await fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as any };
}

async function post(path: string, body: string, token: string) {
  const res = await fetch(base + path, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as any };
}

beforeAll(async () => {
  persistence = new Persistence(await openStore({ flushIntervalMs: 50 }), 50);
  service = await startTestService({ secret: SECRET }, {
    store: persistence,
  });
  base = `http://127.0.0.1:${service.httpPort}`;
});

afterAll(async () => service?.close());

describe('HTTP API', () => {
  it('reports health, liveness and readiness', async () => {
    const h = await get('/health');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'healthy', databaseConnected: true });
    expect(typeof h.body.version).toBe('string');
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health/ready')).body).toEqual({ ready: true });
  });

  it('refuses the per-user API without a valid token', async () => {
    expect((await get('/api/v1/aic/config')).status).toBe(401);
    expect((await get('/api/v1/aic/config', 'garbage')).status).toBe(401);
    const wrongKey = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(new TextEncoder().encode('another-secret-that-is-also-long-enough'));
    expect((await get('/api/v1/aic/metrics', wrongKey)).status).toBe(401);
  });

  it("keeps each user's configuration to that user, and sessions follow it", async () => {
    const alice = await sign('alice');
    const bob = await sign('bob');
    const set = await post('/api/v1/aic/config', JSON.stringify({ mode: 'off' }), alice);
    expect(set.status).toBe(200);
    expect(set.body.config).toMatchObject({ userId: 'alice', mode: 'off' });
    expect((await get('/api/v1/aic/config', alice)).body.config).toMatchObject({ mode: 'off' });
    expect((await get('/api/v1/aic/config', bob)).body.config).toBeNull();
    // Row-level security, not the handler's WHERE: bob's scope sees no row of alice's.
    const asBob = await persistence.store.withUser('bob', (tx) => tx.query('SELECT user_id FROM aic_configs'));
    expect(asBob.rows).toEqual([]);
    const asAlice = await persistence.store.withUser('alice', (tx) => tx.query('SELECT user_id FROM aic_configs'));
    expect(asAlice.rows).toEqual([{ user_id: 'alice' }]);
    // Alice's sessions now run with mode off: her frames are sent losslessly.
    const frame = { type: 'video' as const, format: 'rgb24' as const, width: 32, height: 24, data: Buffer.alloc(32 * 24 * 3, 50) };
    expect((await service.core.compress('alice', 's1', frame, {})).mode).toBe('off');
    expect((await service.core.compress('bob', 's1', frame, {})).mode).not.toBe('off');
  });

  it('answers bad configuration with 400 and what is wrong', async () => {
    const alice = await sign('alice');
    const bad = await post('/api/v1/aic/config', JSON.stringify({ mode: 'turbo' }), alice);
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/mode/);
    expect((await post('/api/v1/aic/config', '{not json', alice)).status).toBe(400);
    expect((await post('/api/v1/aic/config', '[1,2]', alice)).status).toBe(400);
    expect((await get('/api/v1/aic/metrics?from=yesterday', alice)).status).toBe(400);
  });

  it("gives each user their own metrics over a time range", async () => {
    const carol = await sign('carol');
    const frame = { type: 'video' as const, format: 'rgb24' as const, width: 48, height: 32, data: Buffer.alloc(48 * 32 * 3) };
    for (let i = 0; i < frame.data.length; i++) frame.data[i] = (i * 11) & 255;
    for (let i = 0; i < 3; i++) await service.core.compress('carol', 'call', frame, {});
    persistence.tick();
    await persistence.store.flush();
    const m = await get('/api/v1/aic/metrics', carol);
    expect(m.status).toBe(200);
    expect(m.body.metrics.totals.frames).toBe(3);
    expect(m.body.metrics.totals.bytesIn).toBe(3 * frame.data.length);
    const dave = await get('/api/v1/aic/metrics', await sign('dave'));
    expect(dave.body.metrics.totals.frames).toBe(0);
    const live = await get('/api/v1/aic/live', carol);
    expect(live.body).toMatchObject({ userId: 'carol', openSessions: 1, frames: 3 });
    expect(live.body.latencyMs.p95).toBeGreaterThan(0);
  });

  it('answers unknown routes with 404', async () => {
    expect((await get('/nope')).status).toBe(404);
  });
});
