import { afterAll, describe, expect, it } from 'vitest';
import { AicError, createEngine, type Engine } from '../src/index.js';
import { tinyModel } from './helpers.js';

describe('engine', () => {
  let engine: Engine;
  afterAll(async () => engine?.close());

  it('reports ONNX Runtime version, providers and settings', async () => {
    engine = await createEngine({ executionProvider: 'cpu', intraOpThreads: 2, models: { image: false, audio: false } });
    const info = engine.info();
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(info.codecs).toEqual({ image: null, audio: null });
    expect(info.unavailable.image).toMatch(/no model was configured/);
    expect(Object.keys(info.fallbackReasons).sort()).toEqual(['error', 'latency', 'model_unavailable', 'quality']);
    expect(info.ortVersion).toMatch(/^1\.\d+\.\d+/);
    expect(info.ortApiVersion).toBeGreaterThanOrEqual(21);
    expect(info.availableProviders).toContain('CPUExecutionProvider');
    expect(info.requestedProvider).toBe('cpu');
    expect(info.intraOpThreads).toBe(2);
    expect(info.allowSpinning).toBe(false);
    expect(info.graphOptimization).toBe('all');
    expect(info.models).toEqual([]);
    expect(info.providerFallbackReason).toBeNull();
  });

  it('lists loaded models with the provider each graph runs on', async () => {
    await engine.loadModel(tinyModel);
    const info = engine.info();
    expect(info.models).toHaveLength(1);
    expect(info.models[0]!.name).toBe('tiny');
    expect(info.models[0]!.encoder.provider).toBe('CPUExecutionProvider');
    expect(info.models[0]!.encoder.fallbackReason).toBeNull();
    expect(info.models[0]!.encoder.inputs).toEqual([{ name: 'image', type: 'float32', shape: [1, 3, -1, -1] }]);
  });

  it('refuses conflicting thread settings while another engine lives', async () => {
    const err = await createEngine({ executionProvider: 'cpu', intraOpThreads: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('INVALID_ARGUMENT');
    expect((err as AicError).message).toMatch(/one environment per process/);
    const same = await createEngine({ executionProvider: 'cpu', intraOpThreads: 2 });
    expect(same.info().intraOpThreads).toBe(2);
    await same.close();
  });

  it.each([
    [{ executionProvider: 'tpu' }, /executionProvider/],
    [{ intraOpThreads: -1 }, /intraOpThreads/],
    [{ intraOpThreads: 1.5 }, /intraOpThreads/],
    [{ allowSpinning: 'yes' }, /allowSpinning/],
    [{ graphOptimization: 'max' }, /graphOptimization/],
  ])('rejects bad option %j with INVALID_ARGUMENT', async (options, message) => {
    const err = await createEngine(options as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('INVALID_ARGUMENT');
    expect((err as AicError).message).toMatch(message);
  });
});
