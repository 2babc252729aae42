// The core's handling of sessions as the review of the service found it wanting: a stream naming
// another user is refused without taking the process down, two first frames of one session share
// it, hints never reconfigure a live stream, a settings change updates the stream's row instead
// of closing it, a slow or dead database does not hold frames, sessions the engine expired leave,
// and one user cannot take every session.
import { credentials, loadPackageDefinition, Metadata, status } from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreStore } from '../src/core.js';
import { AiCore } from '../src/core.js';
import { loadProto } from '../src/grpc/server.js';
import type { RunningService } from '../src/service.js';
import { startTestService, TEST_DEFAULTS as defaults } from './helpers/service.js';
import { Registry } from 'prom-client';

const SECRET = 'core-test-secret-long-enough-for-hs256';
const frame = (n = 0) => {
  const data = Buffer.alloc(48 * 32 * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 13 + n * 7 + (i >> 5)) & 255;
  return { type: 'video' as const, format: 'rgb24' as const, width: 48, height: 32, data };
};

/** A store that records what the core tells it, and whose reads can be made slow or failing. */
function recordingStore(read: (user: string) => Promise<unknown> = async () => null) {
  const events: string[] = [];
  const store: CoreStore = {
    getUserConfig: (u) => read(u) as never,
    sessionOpened: (r) => events.push(`open ${r.sessionId} ${r.mode}`),
    sessionReconfigured: (r) => events.push(`reconfigure ${r.sessionId} ${r.mode} changes=${r.modeChanges}`),
    sessionClosed: (r) => events.push(`close ${r.sessionId} frames=${r.stats.framesProcessed} changes=${r.modeChanges}`),
  };
  return { store, events };
}

describe('core sessions', () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService({ secret: SECRET });
  });
  afterAll(async () => service?.close());

  it('refuses a stream that names another user, and the process goes on', async () => {
    const md = new Metadata();
    md.set('authorization', `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('mallory').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET))}`);
    const Client = (loadPackageDefinition(loadProto()) as any).auralink.aic.v1.AICCompressionService;
    const c = new Client(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
    const s = c.CompressStream(md);
    const err = await new Promise<any>((resolve) => {
      s.on('error', resolve);
      s.on('data', () => undefined);
      s.write({ user_id: 'victim', frame_type: 'FRAME_TYPE_VIDEO', frame_data: frame().data, metadata: { width: 48, height: 32 } });
    });
    expect(err.code).toBe(status.PERMISSION_DENIED);
    // Still serving.
    const h = await new Promise<any>((resolve, reject) => c.HealthCheck({}, md, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
    expect(h.status).toBe('healthy');
    c.close();
  });

  it('gives two first frames of one session the same session', async () => {
    const before = service.core.activeSessions;
    await Promise.all([service.core.compress('u1', 'same', frame(1), {}), service.core.compress('u1', 'same', frame(2), {})]);
    expect(service.core.activeSessions).toBe(before + 1);
    service.core.endSession('u1', 'same');
  });

  it('answers hints without reconfiguring the stream they ask about', async () => {
    await service.core.compress('u2', 'live', frame(), { mode: 'aggressive' });
    await service.core.compress('u2', 'live', frame(3), { mode: 'aggressive' });
    const before = service.core.activeSessions;
    const h = await service.core.hints('u2', 'live', { type: 'video', width: 48, height: 32 });
    expect(h.recommendedMode).toBeDefined();
    await service.core.hints('u2', '', { type: 'video', width: 48, height: 32 });
    expect(service.core.activeSessions).toBe(before);
    expect(service.core.userLive('u2').frames).toBe(2);
    service.core.endSession('u2', 'live');
  });
});

describe('core and its store', () => {
  it('updates a stream on a settings change instead of closing it', async () => {
    const { store, events } = recordingStore();
    const core = await AiCore.start({ engine: { executionProvider: 'cpu' }, defaults, registry: new Registry(), store });
    await core.compress('a', 's', frame(), {});
    await core.compress('a', 's', frame(1), { mode: 'aggressive' });
    await core.compress('a', 's', frame(2), { mode: 'aggressive' });
    core.endSession('a', 's');
    expect(events).toEqual(['open s adaptive', 'reconfigure s aggressive changes=1', 'close s frames=2 changes=1']);
    await core.close();
  });

  it('codes frames with the last settings read when the database hangs or fails', async () => {
    let mode: 'hang' | 'fail' | 'ok' = 'ok';
    const { store } = recordingStore((user) => (mode === 'hang' ? new Promise(() => undefined) : mode === 'fail' ? Promise.reject(new Error('ECONNREFUSED')) : Promise.resolve(user === 'off-user' ? { mode: 'off' } : null)));
    const core = await AiCore.start({ engine: { executionProvider: 'cpu' }, defaults, registry: new Registry(), store, settingsTimeoutMs: 50 });
    expect((await core.compress('off-user', 's', frame(), {})).mode).toBe('off');
    mode = 'hang';
    expect((await core.compress('off-user', 's', frame(1), {})).mode).toBe('off');
    mode = 'fail';
    expect((await core.compress('off-user', 's', frame(2), {})).mode).toBe('off');
    // A user never read gets the environment's settings.
    expect((await core.compress('new-user', 's', frame(3), {})).mode).toBe('adaptive');
    expect(core.settingsFallbacks).toBe(3);
    await core.close();
  });

  it('lets sessions the engine expired go, closing their rows', async () => {
    const { store, events } = recordingStore();
    const core = await AiCore.start({ engine: { executionProvider: 'cpu', sessionIdleTimeoutMs: 50 }, defaults, registry: new Registry(), store });
    await core.compress('a', 'idle', frame(), {});
    await new Promise((r) => setTimeout(r, 200));
    // The engine sweeps idle sessions when asked for a new one.
    core.engine.openSession().close();
    expect(core.activeSessions).toBe(0);
    expect(events).toContain('close idle frames=1 changes=0');
    await core.close();
  });

  it('bounds the sessions one user may hold', async () => {
    const core = await AiCore.start({ engine: { executionProvider: 'cpu' }, defaults, registry: new Registry(), maxSessionsPerUser: 2 });
    await core.compress('greedy', 's1', frame(), {});
    await core.compress('greedy', 's2', frame(), {});
    await expect(core.compress('greedy', 's3', frame(), {})).rejects.toMatchObject({ code: 'SESSION_LIMIT' });
    await core.compress('other', 's1', frame(), {});
    core.endSession('greedy', 's1');
    await core.compress('greedy', 's3', frame(), {});
    await core.close();
  });
});
