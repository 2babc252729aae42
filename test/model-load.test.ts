import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AicError, createEngine, type Engine } from '../src/index.js';
import { fixture, tinyModel } from './helpers.js';

async function codeOf(p: Promise<unknown>): Promise<[string, string]> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AicError);
    return [(e as AicError).code, (e as AicError).message];
  }
  throw new Error('expected a rejection');
}

describe('loading models', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
  });
  afterAll(async () => engine.close());

  it('loads from paths and from Buffers', async () => {
    const fromPath = await engine.loadModel(tinyModel);
    expect(fromPath.info().decoder.outputs[0]!.name).toBe('image');
    const fromBytes = await engine.loadModel({
      name: 'tiny-bytes',
      encoder: readFileSync(tinyModel.encoder),
      decoder: readFileSync(tinyModel.decoder),
    });
    expect(fromBytes.info().encoder.inputs[0]!.name).toBe('image');
    const sync = engine.loadModelSync({ name: 'tiny-sync', encoder: tinyModel.encoder, decoder: tinyModel.decoder });
    expect(sync.info().name).toBe('tiny-sync');
  });

  it('loads once and shares by name', async () => {
    const [a, b] = await Promise.all([engine.loadModel({ ...tinyModel, name: 'shared' }), engine.loadModel({ ...tinyModel, name: 'shared' })]);
    expect(a).toBe(b);
    expect(await engine.loadModel({ ...tinyModel, name: 'shared' })).toBe(a);
    expect(engine.model('shared')).toBe(a);
    const [code] = await codeOf(engine.loadModel({ name: 'shared', encoder: fixture('u8_scaler.onnx'), decoder: tinyModel.decoder }));
    expect(code).toBe('INVALID_ARGUMENT');
  });

  it('missing file -> MODEL_NOT_FOUND naming the path', async () => {
    const [code, message] = await codeOf(engine.loadModel({ name: 'missing', encoder: fixture('nope.onnx'), decoder: tinyModel.decoder }));
    expect(code).toBe('MODEL_NOT_FOUND');
    expect(message).toContain('nope.onnx');
    // A failed load does not poison the name.
    expect((await engine.loadModel({ ...tinyModel, name: 'missing' })).name).toBe('missing');
  });

  it('truncated model -> MODEL_INVALID', async () => {
    const bytes = readFileSync(tinyModel.encoder);
    const [code, message] = await codeOf(engine.loadModel({ name: 'trunc', encoder: bytes.subarray(0, bytes.length - 40), decoder: tinyModel.decoder }));
    expect(code).toBe('MODEL_INVALID');
    expect(message).toMatch(/^encoder model could not be loaded/);
  });

  it('garbage and empty bytes -> MODEL_INVALID', async () => {
    const [c1] = await codeOf(engine.loadModel({ name: 'junk', encoder: tinyModel.encoder, decoder: Buffer.alloc(500, 0x5a) }));
    expect(c1).toBe('MODEL_INVALID');
    const [c2] = await codeOf(engine.loadModel({ name: 'empty', encoder: Buffer.alloc(0), decoder: tinyModel.decoder }));
    expect(c2).toBe('MODEL_INVALID');
    expect(() => engine.loadModelSync({ name: 'junk-sync', encoder: Buffer.from('not onnx'), decoder: tinyModel.decoder })).toThrow(AicError);
  });

  it('checks the declared signature and names the mismatch', async () => {
    const good = {
      encoder: { inputs: [{ name: 'image', type: 'float32' as const, rank: 4 }], outputs: [{ name: 'latent', type: 'float32' as const, rank: 4 }] },
      decoder: { inputs: [{ name: 'latent', type: 'float32' as const, rank: 4 }], outputs: [{ name: 'image', type: 'float32' as const }] },
    };
    await engine.loadModel({ ...tinyModel, name: 'sig-ok', signature: good });

    const wrongType = { ...good, encoder: { ...good.encoder, inputs: [{ name: 'image', type: 'uint8' as const, rank: 4 }] } };
    const [c1, m1] = await codeOf(engine.loadModel({ ...tinyModel, name: 'sig-type', signature: wrongType }));
    expect(c1).toBe('MODEL_SIGNATURE_MISMATCH');
    expect(m1).toBe("encoder input 'image': declared uint8, the model has float32");

    const wrongRank = { ...good, decoder: { ...good.decoder, inputs: [{ name: 'latent', type: 'float32' as const, rank: 3 }] } };
    const [c2, m2] = await codeOf(engine.loadModel({ ...tinyModel, name: 'sig-rank', signature: wrongRank }));
    expect(c2).toBe('MODEL_SIGNATURE_MISMATCH');
    expect(m2).toMatch(/decoder input 'latent': declared rank 3, the model has rank 4/);

    const wrongName = { ...good, encoder: { ...good.encoder, outputs: [{ name: 'code', type: 'float32' as const }] } };
    const [c3, m3] = await codeOf(engine.loadModel({ ...tinyModel, name: 'sig-name', signature: wrongName }));
    expect(c3).toBe('MODEL_SIGNATURE_MISMATCH');
    expect(m3).toMatch(/encoder output 'code' is not in the model, which has 'latent'/);

    // Swapped graphs: the decoder given where the encoder belongs.
    const [c4] = await codeOf(engine.loadModel({ name: 'swapped', encoder: tinyModel.decoder, decoder: tinyModel.encoder, signature: good }));
    expect(c4).toBe('MODEL_SIGNATURE_MISMATCH');
  });

  it('rejects malformed definitions with INVALID_ARGUMENT', async () => {
    for (const bad of [null, {}, { name: '', encoder: 'a', decoder: 'b' }, { name: 'x', encoder: 42, decoder: 'b' }]) {
      const [code] = await codeOf(engine.loadModel(bad as never));
      expect(code).toBe('INVALID_ARGUMENT');
      expect(() => engine.loadModelSync(bad as never)).toThrow(AicError);
    }
  });
});
