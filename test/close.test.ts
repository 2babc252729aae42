import { describe, expect, it } from 'vitest';
import { AicError, createEngine, tensor } from '../src/index.js';
import { randomImage, tinyModel } from './helpers.js';

const input = { image: tensor(randomImage(4, 4), [1, 3, 4, 4]) };

describe('close()', () => {
  it('model.close() then use -> CLOSED', async () => {
    const engine = await createEngine({ executionProvider: 'cpu' });
    const model = await engine.loadModel(tinyModel);
    model.close();
    model.close(); // idempotent
    expect(model.closed).toBe(true);
    await expect(model.encode(input)).rejects.toMatchObject({ name: 'AicError', code: 'CLOSED' });
    expect(() => model.decodeSync(input)).toThrow(AicError);
    expect(() => model.info()).toThrow(/closed/);
    // The name is free again, and a fresh load works.
    const again = await engine.loadModel(tinyModel);
    expect(again).not.toBe(model);
    expect((await again.encode(input)).latent!.shape).toEqual([1, 4, 2, 2]);
    await engine.close();
  });

  it('engine.close() unloads every model and refuses new work', async () => {
    const engine = await createEngine({ executionProvider: 'cpu' });
    const a = await engine.loadModel(tinyModel);
    const b = await engine.loadModel({ ...tinyModel, name: 'b' });
    await engine.close();
    expect(engine.closed).toBe(true);
    expect(a.closed && b.closed).toBe(true);
    await expect(a.encode(input)).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(engine.loadModel(tinyModel)).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => engine.loadModelSync(tinyModel)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    await engine.close(); // idempotent
  });
});
