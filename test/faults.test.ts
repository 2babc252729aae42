// The native core's test-only fault injector (native/core/common/faults.h) and a short run of
// bench/faults.mjs: every frame still goes out and decodes, fallbacks match the injected faults,
// the engine recovers once they stop (docs/RELIABILITY.md, "Injected faults").
import { afterEach, describe, expect, it } from 'vitest';
import { AicError, createEngine, tensor } from '../src/index.js';
import { native } from '../src/native/load.js';
import { randomImage, tinyModel } from './helpers.js';
// @ts-ignore: a plain ES module without types
import { runFaults } from '../bench/faults.mjs';

const faults = native().faults;

async function codeOf(p: Promise<unknown>): Promise<[string, string]> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AicError);
    return [(e as AicError).code, (e as AicError).message];
  }
  throw new Error('expected a rejection');
}

describe('fault injection (test only)', () => {
  afterEach(() => faults.clear());

  it('is off by default and counts each kind it injects', async () => {
    expect(faults.testOnly).toBe(true);
    expect(faults.counts()).toMatchObject({ active: false, eligibleRuns: 0, inferenceFailures: 0, allocFailures: 0 });
    const engine = await createEngine({ executionProvider: 'cpu' });
    const model = await engine.loadModel(tinyModel);
    const image = tensor(randomImage(10, 14, 3), [1, 3, 10, 14]);
    await model.encode({ image });
    expect(faults.counts().eligibleRuns).toBe(0);

    faults.set({ inferenceFailureEvery: 2, allocFailureEvery: 3, slowMs: 30, slowEvery: 5 });
    const codes: string[] = [];
    const t0 = performance.now();
    for (let i = 0; i < 6; i++) codes.push(await model.encode({ image }).then(() => 'ok', (e: AicError) => e.code));
    // Runs 1..6: 2, 4, 6 fail inference; 3 fails allocation; 5 sleeps 30 ms.
    expect(codes).toEqual(['ok', 'INFERENCE_FAILED', 'OUT_OF_MEMORY', 'INFERENCE_FAILED', 'ok', 'INFERENCE_FAILED']);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
    expect(faults.counts()).toMatchObject({ active: true, eligibleRuns: 6, inferenceFailures: 3, allocFailures: 1, slowRuns: 1 });
    // Decoders are not eligible unless asked for.
    const latent = tensor(new Float32Array(4 * 5 * 7), [1, 4, 5, 7]);
    await model.decode({ latent });
    faults.set({ inferenceFailureEvery: 1, allGraphs: true });
    expect((await codeOf(model.decode({ latent })))[0]).toBe('INFERENCE_FAILED');
    faults.clear();
    await model.encode({ image });
    expect(faults.counts()).toMatchObject({ active: false, eligibleRuns: 0, inferenceFailures: 0 });
    await engine.close();
  });

  it('makes model files vanish and the CUDA provider go away', async () => {
    const engine = await createEngine({ executionProvider: 'cuda' });
    faults.set({ vanishModels: true });
    const [code, message] = await codeOf(engine.loadModel(tinyModel));
    expect(code).toBe('MODEL_NOT_FOUND');
    expect(message).toMatch(/vanished/);
    faults.set({ providerLost: true });
    const model = await engine.loadModel(tinyModel);
    expect(model.info().encoder.provider).toBe('CPUExecutionProvider');
    expect(model.info().encoder.fallbackReason).toMatch(/provider was lost/);
    const [runCode, runMessage] = await codeOf(model.encode({ image: tensor(randomImage(10, 14, 3), [1, 3, 10, 14]) }));
    expect(runCode).toBe('INFERENCE_FAILED');
    expect(runMessage).toMatch(/provider was lost/);
    expect(faults.counts()).toMatchObject({ vanishedModels: 2, providerLostLoads: 2, providerLostRuns: 1 });
    await engine.close();
  });

  it('never loses a frame: 2,000 frames under faults, then recovery', async () => {
    const r = await runFaults({ frames: 2000, recoveryFrames: 400, sessions: 16, failEvery: 25, allocEvery: 61, slowEvery: 41, slowMs: 2 });
    expect(r.violations).toEqual([]);
    expect(r.injecting.decoded).toBe(2000);
    expect(r.injected.inferenceFailures).toBeGreaterThan(0);
    expect(r.injected.allocFailures).toBeGreaterThan(0);
    expect(r.sessionsFaulted).toBe(r.injectedFailures);
    expect(r.recovery.error).toBe(0);
  }, 120_000);
});
