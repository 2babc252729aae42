// Lifecycle as documented, and backpressure: close() lets what was handed over finish, engine.close()
// drains before it unloads, a busy session does not expire, and a full engine refuses (or queues,
// when asked) before it accepts a frame.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine, type Frame } from '../src/index.js';
import { errorOf, speechLike, syntheticFrame, toS16 } from './media.js';

const W = 160;
const H = 96;
const frame = (i = 0): Frame => ({ type: 'video', format: 'rgb24', width: W, height: H, data: syntheticFrame(W, H, 3), timestamp: i });

describe('lifecycle and backpressure', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
  });
  afterAll(async () => engine.close());

  it('session.close() lets frames already handed over finish; later calls get CLOSED', async () => {
    const s = engine.openSession({ maxLatencyMs: Infinity });
    const handed = Array.from({ length: 6 }, (_, i) => s.compressFrame(frame(i)));
    s.close();
    const results = await Promise.all(handed);
    expect(results.map((r) => r.sequence)).toEqual([0, 1, 2, 3, 4, 5]);
    // A keyframe and predicted frames: a receiving session decodes them in order.
    const rx = engine.openSession();
    for (const r of results) expect((await rx.decompressFrame(r.payload)).width).toBe(W);
    expect((await errorOf(s.compressFrame(frame()))).code).toBe('CLOSED');
  });

  it('engine.close() finishes queued decodes and frames before it unloads the models; later calls get CLOSED', async () => {
    const own = await createEngine({ executionProvider: 'cpu' });
    // Intra frames: each payload decodes on the engine alone too.
    const tx = own.openSession({ maxLatencyMs: Infinity, interFrames: false });
    const payloads = (await Promise.all(Array.from({ length: 4 }, (_, i) => tx.compressFrame(frame(i))))).map((r) => r.payload);
    const rx = own.openSession();
    const pcm = toS16(speechLike(16000, 0.2));
    const audio = Array.from({ length: 10 }, (_, i) => tx.compressFrame({ type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: pcm.subarray(i * 640, (i + 1) * 640) }));
    const queued = [...payloads.map((p) => rx.decompressFrame(p)), ...payloads.map((p) => own.decompressFrame(p)), ...audio];
    const closing = own.close();
    const settled = await Promise.allSettled(queued);
    await closing;
    expect(settled.filter((x) => x.status === 'rejected').map((x) => (x as PromiseRejectedResult).reason.code)).toEqual([]);
    expect((await errorOf(own.decompressFrame(payloads[0]!))).code).toBe('CLOSED');
  });

  it('a session with frames in flight is busy, not idle: it does not expire under sessionIdleTimeoutMs', async () => {
    const own = await createEngine({ executionProvider: 'cpu', sessionIdleTimeoutMs: 60 });
    try {
      const s = own.openSession({ maxLatencyMs: Infinity });
      // Work that outlasts the 60 ms timeout many times over (eight closed-loop 640x360 frames),
      // all handed over at once: had the sweeper counted the session idle, later frames would
      // reject with CLOSED.
      const big = { type: 'video', format: 'rgb24', width: 640, height: 360, data: syntheticFrame(640, 360, 3) } as Frame;
      const results = await Promise.all(Array.from({ length: 8 }, () => s.compressFrame(big)));
      expect(results).toHaveLength(8);
      expect(s.closed).toBe(false);
      // Idle afterwards: it expires.
      await new Promise((r) => setTimeout(r, 250));
      expect(s.closed).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('refuses frames past maxInFlight with RESOURCE_EXHAUSTED before accepting them, or queues them in order when asked', async () => {
    const own = await createEngine({ executionProvider: 'cpu', maxInFlight: 2 });
    try {
      const s = own.openSession({ maxLatencyMs: Infinity, interFrames: false });
      const calls = Array.from({ length: 5 }, (_, i) => s.compressFrame(frame(i)));
      const settled = await Promise.allSettled(calls);
      const codes = settled.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as { code: string }).code));
      expect(codes).toEqual(['ok', 'ok', 'RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED', 'RESOURCE_EXHAUSTED']);
      // The refused frames were never accepted: the session numbered only the two it coded.
      expect(s.stats().framesProcessed).toBe(2);
      const waited = await Promise.all(Array.from({ length: 6 }, (_, i) => s.compressFrame(frame(i), { whenBusy: 'wait' })));
      expect(waited.map((r) => r.sequence)).toEqual([2, 3, 4, 5, 6, 7]);
      const payload = waited[0]!.payload;
      const decodes = await Promise.allSettled(Array.from({ length: 4 }, () => own.decompressFrame(payload)));
      expect(decodes.filter((x) => x.status === 'rejected').length).toBeGreaterThan(0);
      expect((await Promise.all(Array.from({ length: 4 }, () => own.decompressFrame(payload, { whenBusy: 'wait' })))).length).toBe(4);
      expect((await errorOf(s.compressFrame(frame(), { whenBusy: 'sometimes' as never }))).code).toBe('INVALID_ARGUMENT');
      await expect(createEngine({ maxInFlight: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await own.close();
    }
  });
});
