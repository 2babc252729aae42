// CPU numerics against an independent reference, caller-provided outputs, zero-copy accounting
// and input validation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AicError, asFloat32, createEngine, tensor, type Engine, type Model } from '../src/index.js';
import { fixture, maxAbsDiff, randomImage, referenceDecode, referenceEncode, tinyModel } from './helpers.js';

describe('inference', () => {
  let engine: Engine;
  let model: Model;
  const H = 10;
  const W = 14;
  const image = randomImage(H, W, 7);

  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
    model = await engine.loadModel(tinyModel);
  });
  afterAll(async () => engine.close());

  it('a model loaded to run on the calling thread only gives the same outputs; a non-boolean is refused', async () => {
    const own = await engine.loadModel({ ...tinyModel, name: 'tiny-calling-thread', callingThreadOnly: true });
    const a = await model.encode({ image: tensor(image, [1, 3, H, W]) });
    const b = await own.encode({ image: tensor(image, [1, 3, H, W]) });
    expect(Buffer.from(b.latent!.data.buffer, b.latent!.data.byteOffset, b.latent!.data.byteLength).equals(Buffer.from(a.latent!.data.buffer, a.latent!.data.byteOffset, a.latent!.data.byteLength))).toBe(true);
    own.close();
    const err = await engine.loadModel({ ...tinyModel, name: 'tiny-bad', callingThreadOnly: 'yes' as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('INVALID_ARGUMENT');
  });

  it('encoder and decoder match a plain-JS reference', async () => {
    const enc = await model.encode({ image: tensor(image, [1, 3, H, W]) });
    expect(enc.latent!.shape).toEqual([1, 4, H / 2, W / 2]);
    expect(enc.latent!.type).toBe('float32');
    expect(Buffer.isBuffer(enc.latent!.data)).toBe(true);
    const latent = asFloat32(enc.latent!);
    expect(maxAbsDiff(latent, referenceEncode(image, H, W))).toBeLessThan(1e-5);

    const dec = await model.decode({ latent: tensor(latent, [1, 4, H / 2, W / 2]) });
    expect(dec.image!.shape).toEqual([1, 3, H, W]);
    expect(maxAbsDiff(asFloat32(dec.image!), referenceDecode(latent, H / 2, W / 2))).toBeLessThan(1e-5);
  });

  it('sync variants give the same bytes', async () => {
    const a = await model.encode({ image: tensor(image, [1, 3, H, W]) });
    const b = model.encodeSync({ image: tensor(image, [1, 3, H, W]) });
    expect(Buffer.compare(a.latent!.data as Buffer, b.latent!.data as Buffer)).toBe(0);
  });

  it('writes into a caller-provided output and returns that same object', async () => {
    const out = new Float32Array(4 * (H / 2) * (W / 2)).fill(NaN);
    const r = await model.encode({ image: tensor(image, [1, 3, H, W]) }, { outputs: { latent: tensor(out, [1, 4, H / 2, W / 2]) } });
    expect(r.latent!.data).toBe(out);
    expect(maxAbsDiff(out, referenceEncode(image, H, W))).toBeLessThan(1e-5);

    const buf = Buffer.alloc(3 * H * W * 4);
    const d = model.decodeSync({ latent: tensor(out, [1, 4, H / 2, W / 2]) }, { outputs: { image: tensor(buf, [1, 3, H, W], 'float32') } });
    expect(d.image!.data).toBe(buf);
    expect(maxAbsDiff(asFloat32(d.image!), referenceDecode(out, H / 2, W / 2))).toBeLessThan(1e-5);
    expect(model.stats().outputBytesCopied).toBe(0);
  });

  it('refuses an output buffer of the wrong size with OUTPUT_MISMATCH', async () => {
    const small = new Float32Array(7);
    const err = await model.encode({ image: tensor(image, [1, 3, H, W]) }, { outputs: { latent: tensor(small, [1, 4, H / 2, W / 2]) } }).catch((e: unknown) => e);
    expect((err as AicError).code).toBe('OUTPUT_MISMATCH');
    const wrongShape = new Float32Array(4 * (H / 2) * (W / 2));
    const err2 = await model.encode({ image: tensor(image, [1, 3, H, W]) }, { outputs: { latent: tensor(wrongShape, [1, 4, W / 2, H / 2]) } }).catch((e: unknown) => e);
    expect((err2 as AicError).code).toBe('OUTPUT_MISMATCH');
    const unknown = await model.encode({ image: tensor(image, [1, 3, H, W]) }, { outputs: { y: tensor(wrongShape, [1]) } }).catch((e: unknown) => e);
    expect((unknown as AicError).code).toBe('OUTPUT_MISMATCH');
  });

  it('reads aligned inputs in place and counts the copy a misaligned view forces', async () => {
    // Sync runs read the caller's memory in place; async runs read a copy taken at call time
    // (docs/native-core.md, "Caller memory"), so the in-place accounting is the sync one's.
    const before = model.stats();
    model.encodeSync({ image: tensor(image, [1, 3, H, W]) });
    const aligned = model.stats();
    expect(aligned.inputBytesCopied).toBe(before.inputBytesCopied);
    expect(aligned.encoderRuns).toBe(before.encoderRuns + 1);

    // The same floats at byte offset 1 of a Buffer: ONNX Runtime needs 4-byte alignment.
    const raw = Buffer.alloc(image.byteLength + 1);
    Buffer.from(image.buffer, image.byteOffset, image.byteLength).copy(raw, 1);
    const odd = raw.subarray(1);
    const r = model.encodeSync({ image: tensor(odd, [1, 3, H, W], 'float32') });
    expect(model.stats().inputBytesCopied - aligned.inputBytesCopied).toBe(image.byteLength);
    expect(maxAbsDiff(asFloat32(r.latent!), referenceEncode(image, H, W))).toBeLessThan(1e-5);
  });

  it('runs graphs with byte inputs', async () => {
    const u8 = await engine.loadModel({ name: 'u8', encoder: fixture('u8_scaler.onnx'), decoder: fixture('u8_scaler.onnx') });
    const pixels = Buffer.from([0, 51, 102, 255]);
    const r = await u8.encode({ pixels: tensor(pixels, [4]) });
    expect(Array.from(asFloat32(r.scaled!))).toEqual([0, 51, 102, 255].map((v) => Math.fround(v * Math.fround(1 / 255))));
  });

  it.each([
    ['a missing input', {}, /input 'image' is missing/],
    ['an unknown input', { image: tensor(image, [1, 3, H, W]), extra: tensor(image, [1]) }, /has no input 'extra'/],
    ['wrong element type', { image: tensor(new Int32Array(3 * H * W), [1, 3, H, W]) }, /must be float32, got int32/],
    ['wrong rank', { image: tensor(image, [3, H, W]) }, /must have rank 4/],
    ['a fixed dim', { image: tensor(image, [1, 1, 3 * H, W]) }, /must have shape \[1,3,\?,\?\]/],
    ['too few bytes', { image: tensor(image.subarray(1), [1, 3, H, W]) }, /needs 1680 bytes, the buffer has 1676/],
    ['zero elements', { image: tensor(new Float32Array(0), [1, 3, 0, W]) }, /has no elements/],
    ['a bad shape entry', { image: { data: image, type: 'float32', shape: [1, 3, -2, W] } }, /shape\[2\] must be a non-negative integer/],
    ['a bad type name', { image: { data: image, type: 'float64', shape: [1, 3, H, W] } }, /is not one of/],
    ['data that is not memory', { image: { data: [1, 2, 3], type: 'float32', shape: [3] } }, /must be a Buffer, TypedArray or DataView/],
  ])('refuses %s with INVALID_ARGUMENT', async (_what, inputs, message) => {
    const err = await model.encode(inputs as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AicError);
    expect((err as AicError).code).toBe('INVALID_ARGUMENT');
    expect((err as AicError).message).toMatch(message);
    expect(() => model.encodeSync(inputs as never)).toThrow(message);
  });

  it('checks fixed graph shapes', async () => {
    const fixed = await engine.loadModel({ name: 'fixed', encoder: fixture('fixed_shape.onnx'), decoder: fixture('fixed_shape.onnx') });
    const x = new Float32Array([1, 2, 3, 4, 5, 6]);
    const ok = await fixed.encode({ x: tensor(x, [2, 3]) });
    expect(Array.from(asFloat32(ok.y!))).toEqual([2, 4, 6, 8, 10, 12]);
    const err = await fixed.encode({ x: tensor(x, [3, 2]) }).catch((e: unknown) => e);
    expect((err as AicError).code).toBe('INVALID_ARGUMENT');
    expect((err as AicError).message).toMatch(/must have shape \[2,3\], got \[3,2\]/);
  });

  it('rejects non-object inputs', async () => {
    await expect(model.encode(null as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(model.decode([] as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
