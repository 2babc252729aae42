// Asking for CUDA where this ONNX Runtime cannot provide it: fall back to CPU and say why, or
// fail with PROVIDER_UNAVAILABLE when CUDA was demanded strictly.
import { describe, expect, it } from 'vitest';
import { AicError, createEngine } from '../src/index.js';
import { tinyModel } from './helpers.js';

describe('execution provider', () => {
  it("'cuda' falls back to CPU with the reason recorded", async () => {
    const engine = await createEngine({ executionProvider: 'cuda' });
    const model = await engine.loadModel(tinyModel);
    const info = model.info();
    if (info.encoder.provider === 'CUDAExecutionProvider') {
      // A machine with CUDA: nothing to fall back from.
      expect(info.encoder.fallbackReason).toBeNull();
    } else {
      expect(info.encoder.provider).toBe('CPUExecutionProvider');
      expect(info.encoder.fallbackReason).toMatch(/CUDA/);
      expect(info.decoder.fallbackReason).toMatch(/CUDA/);
      // The engine's reason is the first graph's, with where the CUDA providers were looked for.
      expect(engine.info().providerFallbackReason!.startsWith(info.encoder.fallbackReason!.trimEnd())).toBe(true);
      expect(engine.info().providerFallbackReason).toContain('no CUDA provider libraries were found');
      expect(engine.info().requestedProvider).toBe('cuda');
    }
    await engine.close();
  });

  it("'auto' runs and records why CUDA was not used", async () => {
    const engine = await createEngine({ executionProvider: 'auto' });
    const model = await engine.loadModel(tinyModel);
    const { encoder } = model.info();
    expect(['CPUExecutionProvider', 'CUDAExecutionProvider']).toContain(encoder.provider);
    if (encoder.provider === 'CPUExecutionProvider') expect(encoder.fallbackReason).toMatch(/CUDA/);
    await engine.close();
  });

  it("'cpu' has no fallback reason", async () => {
    const engine = await createEngine({ executionProvider: 'cpu' });
    const model = await engine.loadModel(tinyModel);
    expect(model.info().encoder.fallbackReason).toBeNull();
    expect(engine.info().providerFallbackReason).toBeNull();
    await engine.close();
  });

  it('strict CUDA without CUDA throws PROVIDER_UNAVAILABLE', async () => {
    let err: unknown;
    try {
      const engine = await createEngine({ executionProvider: 'cuda', strictProvider: true });
      const model = await engine.loadModel(tinyModel);
      if (model.info().encoder.provider === 'CUDAExecutionProvider') return; // CUDA machine
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('PROVIDER_UNAVAILABLE');
    expect((err as AicError).message).toMatch(/strict/);
  });
});
