// Issue 13, part 7: no decode can starve the others of the thread pool. Decodes of a large declared
// output take turns in a lane of their own (src/session/large-decodes.ts); a small frame sent
// after four large ones is decoded while they wait, not after them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/index.js';
import { errorOf, syntheticFrame } from './media.js';

const BIG = 1024;
let engine: Engine;
let big: Buffer;
let small: Buffer;

beforeAll(async () => {
  // Anything over a 64x64 RGB frame counts as large here, so that the test frames stay quick.
  engine = await createEngine({ executionProvider: 'cpu', largeDecodes: { overBytes: 64 * 64 * 3, concurrency: 1 } });
  const codec = engine.imageCodec()!;
  big = (await codec.encode({ format: 'rgb24', width: BIG, height: BIG, data: syntheticFrame(BIG, BIG) }, { level: 3 })).payload;
  small = (await codec.encode({ format: 'rgb24', width: 16, height: 16, data: syntheticFrame(16, 16) }, { level: 3 })).payload;
}, 60_000);
afterAll(async () => engine?.close());

describe('large decodes', () => {
  it('run one at a time while a small decode goes straight through', async () => {
    const order: string[] = [];
    const larges = [0, 1, 2, 3].map((i) => engine.decompressFrame(big).then((f) => (order.push(`large${i}`), f)));
    const rx = engine.openSession();
    const smallDone = rx.decompressFrame(small).then((f) => (order.push('small'), f));
    const during = engine.info().largeDecodes;
    expect(during).toMatchObject({ overBytes: 64 * 64 * 3, concurrency: 1, running: 1, waiting: 3 });
    const frames = await Promise.all([...larges, smallDone]);
    // The small frame did not wait for any of the four large ones; they finished in order.
    expect(order).toEqual(['small', 'large0', 'large1', 'large2', 'large3']);
    for (const f of frames.slice(0, 4)) expect([f.width, f.height]).toEqual([BIG, BIG]);
    expect(frames[4]!.width).toBe(16);
    expect(engine.info().largeDecodes).toMatchObject({ running: 0, waiting: 0, peakRunning: 1 });
    rx.close();
  }, 60_000);

  it('a failing large decode hands its turn on', async () => {
    const corrupt = Buffer.from(big);
    corrupt.fill(0x5a, 44, corrupt.length - 4); // body garbage; the CRC now fails
    const results = await Promise.allSettled([engine.decompressFrame(corrupt), engine.decompressFrame(big)]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { code: 'CORRUPT_PAYLOAD' } });
    expect(results[1].status).toBe('fulfilled');
    expect(engine.info().largeDecodes).toMatchObject({ running: 0, waiting: 0 });
  }, 60_000);

  it('validates its options', async () => {
    for (const largeDecodes of [null, 5, { concurrency: 0 }, { concurrency: 1.5 }, { overBytes: -1 }, { overBytes: '1' }, { lanes: 2 }]) {
      expect(await errorOf(createEngine({ models: { image: false, audio: false }, largeDecodes: largeDecodes as never }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    const e = await createEngine({ models: { image: false, audio: false } });
    expect(e.info().largeDecodes).toMatchObject({ overBytes: 8 * 1024 * 1024, concurrency: 1, peakRunning: 0 });
    await e.close();
  });
});
