// The default image codec through the public API: round trips, payload format, corrupt and
// foreign payloads, bad frames and bad manifests.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AicError, createEngine, DEFAULT_IMAGE_MODEL, imageQuality, parsePayloadHeader, type Engine, type ImageCodec } from '../src/index.js';
import { errorOf, syntheticFrame } from './media.js';


describe('image codec (default model)', () => {
  let engine: Engine;
  let codec: ImageCodec;
  const W = 160;
  const H = 120;
  const frame = syntheticFrame(W, H);

  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
    codec = await engine.loadImageCodec();
  });
  afterAll(async () => engine.close());

  it('ships a model that follows the contract', () => {
    expect(codec.levels).toBeGreaterThanOrEqual(8);
    expect(codec.manifest.modality).toBe('image');
    expect(codec.model.info().encoder.provider).toBe('CPUExecutionProvider');
  });

  it('round-trips at every level, with bytes and quality rising with the level', async () => {
    const sizes: number[] = [];
    const psnrs: number[] = [];
    for (let level = 0; level < codec.levels; level++) {
      const { payload, timings } = await codec.encode({ data: frame, width: W, height: H, format: 'rgb24' }, { level });
      expect(timings.totalMs).toBeGreaterThan(0);
      const out = await codec.decode(payload);
      expect(out.width).toBe(W);
      expect(out.height).toBe(H);
      expect(out.format).toBe('rgb24');
      expect(out.data.byteLength).toBe(W * H * 3);
      expect(out.header.qualityLevel).toBe(level);
      const q = imageQuality(frame, out.data, W, H);
      sizes.push(payload.length);
      psnrs.push(q.psnr);
      expect(payload.length).toBeLessThan(frame.length / 2); // it compresses
    }
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]!).toBeGreaterThan(sizes[i - 1]!);
    expect(psnrs[psnrs.length - 1]!).toBeGreaterThan(psnrs[0]! + 4);
    expect(psnrs[psnrs.length - 1]!).toBeGreaterThan(30);
  });

  it("scores in the closed loop exactly what the receiver decodes (the search skips the entropy round trip)", async () => {
    // compress() reconstructs each level tried from the symbols it coded (ImageCodec::reconstruct);
    // decode() of the payload it returns must give the same frame, so the same scores to the bit.
    const rgba = Buffer.alloc(W * H * 4);
    for (let i = 0; i < W * H; i++) frame.copy(rgba, i * 4, i * 3, i * 3 + 3), (rgba[i * 4 + 3] = 255);
    const i420 = Buffer.alloc(W * H * 1.5, 0);
    frame.copy(i420, 0, 0, W * H); // a luma plane of the synthetic frame, flat chroma
    i420.fill(128, W * H);
    for (const [format, data] of [['rgb24', frame], ['rgba', rgba], ['i420', i420]] as const) {
      const r = await codec.compress({ data, width: W, height: H, format }, { startLevel: 2, aim: 0.99, tileAim: 0.9, maxPasses: 3 });
      expect(r.passes.length).toBe(3);
      const d = await codec.decode(r.payload);
      const q = imageQuality(data, d.data, W, H, format);
      expect(r.ssim).toBe(q.ssim);
      expect(r.psnr).toBe(q.psnr);
      expect(r.worstTileSsim).toBe(q.worstTileSsim);
      // Every level tried: the pass's score is that of the payload coded at that level.
      for (const p of r.passes) {
        const again = await codec.encode({ data, width: W, height: H, format }, { level: p.level });
        expect(again.payload.length).toBe(p.bytes);
        expect(imageQuality(data, (await codec.decode(again.payload)).data, W, H, format).ssim).toBe(p.ssim);
      }
    }
  });

  it('writes a self-describing payload', async () => {
    const { payload } = await codec.encode({ data: frame, width: W, height: H, format: 'rgb24' }, { level: 3, sequence: 77, keyframe: false, frameType: 'screen', timestamp: 1234567 });
    expect(payload.subarray(0, 4).toString('latin1')).toBe('AICF');
    const h = parsePayloadHeader(payload);
    expect(h).toMatchObject({ version: 1, frameType: 'screen', codec: 'neural-image', keyframe: false, fallback: false, qualityLevel: 3, sequence: 77, dim0: W, dim1: H, timestamp: 1234567 });
    expect(h.modelId).toBe(codec.modelId);
  });

  it('is deterministic', async () => {
    const a = await codec.encode({ data: frame, width: W, height: H, format: 'rgb24' }, { level: 2 });
    const b = codec.encodeSync({ data: frame, width: W, height: H, format: 'rgb24' }, { level: 2 });
    expect(Buffer.compare(a.payload, b.payload)).toBe(0);
    const da = await codec.decode(a.payload);
    const db = codec.decodeSync(b.payload);
    expect(Buffer.compare(Buffer.from(da.data.buffer, da.data.byteOffset, da.data.byteLength), Buffer.from(db.data.buffer, db.data.byteOffset, db.data.byteLength))).toBe(0);
  });

  it.each([
    [1, 1],
    [17, 33],
    [33, 17],
    [250, 9],
  ])('handles a %ix%i frame (padding and cropping)', async (w, h) => {
    const f = syntheticFrame(w, h);
    const { payload } = await codec.encode({ data: f, width: w, height: h, format: 'rgb24' }, { level: codec.levels - 1 });
    const out = await codec.decode(payload);
    expect([out.width, out.height]).toEqual([w, h]);
    expect(out.data.byteLength).toBe(w * h * 3);
  });

  it('codes rgba (alpha comes back opaque) and writes into a given output buffer', async () => {
    const rgba = syntheticFrame(W, H, 4);
    const { payload } = await codec.encode({ data: rgba, width: W, height: H, format: 'rgba' });
    const output = Buffer.alloc(W * H * 4);
    const out = await codec.decode(payload, { output });
    expect(out.data).toBe(output);
    expect(out.format).toBe('rgba');
    expect(output[3]).toBe(255);
    expect(imageQuality(rgba, output, W, H, 'rgba').psnr).toBeGreaterThan(25);
    const wrong = await errorOf(codec.decode(payload, { output: Buffer.alloc(10) }));
    expect(wrong.code).toBe('OUTPUT_MISMATCH');
  });

  it('refuses corrupt payloads with CORRUPT_PAYLOAD and never crashes', async () => {
    const { payload } = await codec.encode({ data: frame, width: W, height: H, format: 'rgb24' }, { level: 4 });
    expect((await errorOf(codec.decode(payload.subarray(0, payload.length - 1)))).code).toBe('CORRUPT_PAYLOAD');
    expect((await errorOf(codec.decode(payload.subarray(0, 10)))).code).toBe('CORRUPT_PAYLOAD');
    expect((await errorOf(codec.decode(Buffer.alloc(0)))).code).toBe('CORRUPT_PAYLOAD');
    expect((await errorOf(codec.decode(Buffer.from('not a payload at all, just text')))).code).toBe('CORRUPT_PAYLOAD');
    const future = Buffer.from(payload);
    future[4] = 3; // version 2 is read (predicted frames); 3 is the future
    expect((await errorOf(codec.decode(future))).code).toBe('UNSUPPORTED_VERSION');
    let s = 99;
    for (let i = 0; i < 300; i++) {
      const bad = Buffer.from(payload);
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      bad[s % bad.length] ^= 1 + (s >>> 24) % 255;
      const e = await errorOf(codec.decode(bad));
      expect(['CORRUPT_PAYLOAD', 'UNSUPPORTED_VERSION']).toContain(e.code);
    }
  });

  it("refuses another model's payload with MODEL_MISMATCH", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aic-model-'));
    try {
      const src = path.dirname(DEFAULT_IMAGE_MODEL);
      for (const f of ['encoder.onnx', 'decoder.onnx']) copyFileSync(path.join(src, f), path.join(dir, f));
      const m = JSON.parse(readFileSync(DEFAULT_IMAGE_MODEL, 'utf8'));
      m.version = '9.9.9-test';
      writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
      const other = await engine.loadImageCodec(path.join(dir, 'manifest.json'));
      expect(other.modelId).not.toBe(codec.modelId);
      const { payload } = await other.encode({ data: frame, width: W, height: H, format: 'rgb24' });
      const e = await errorOf(codec.decode(payload));
      expect(e.code).toBe('MODEL_MISMATCH');
      expect(e.message).toMatch(/another model/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['a short buffer', { data: frame.subarray(1), width: W, height: H, format: 'rgb24' }, {}, /needs 57600 bytes, got 57599/],
    ['zero width', { data: frame, width: 0, height: H, format: 'rgb24' }, {}, /width must be an integer from 1/],
    ['a huge height', { data: frame, width: W, height: 100000, format: 'rgb24' }, {}, /height must be an integer from 1 to 16384/],
    ['an unknown format', { data: frame, width: W, height: H, format: 'bgr' }, {}, /format must be 'rgb24', 'rgba' or 'i420'/],
    ['a level out of range', { data: frame, width: W, height: H, format: 'rgb24' }, { level: 99 }, /level must be an integer from 0 to/],
    ['data that is not memory', { data: 'pixels', width: W, height: H, format: 'rgb24' }, {}, /frame.data must be a Buffer/],
  ])('refuses %s with INVALID_ARGUMENT', async (_what, f, opts, message) => {
    const e = await errorOf(codec.encode(f as never, opts as never));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(message);
  });
});

describe('model manifests', () => {
  let engine: Engine;
  let dir: string;
  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
    dir = mkdtempSync(path.join(tmpdir(), 'aic-manifest-'));
    const src = path.dirname(DEFAULT_IMAGE_MODEL);
    for (const f of ['encoder.onnx', 'decoder.onnx']) copyFileSync(path.join(src, f), path.join(dir, f));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await engine.close();
  });
  const base = () => JSON.parse(readFileSync(DEFAULT_IMAGE_MODEL, 'utf8')) as Record<string, any>;
  const write = (m: unknown, name = 'manifest.json') => {
    writeFileSync(path.join(dir, name), JSON.stringify(m));
    return path.join(dir, name);
  };

  it.each([
    ['a changed ONNX file', (m: any) => ({ ...m, encoder: { ...m.encoder, sha256: 'a'.repeat(64) } }), 'MANIFEST_INVALID', /SHA-256/],
    ['a missing ONNX file', (m: any) => ({ ...m, decoder: { ...m.decoder, file: 'gone.onnx' } }), 'MODEL_NOT_FOUND', /gone.onnx/],
    ['a newer contract', (m: any) => ({ ...m, contractVersion: 2 }), 'MANIFEST_INVALID', /contractVersion/],
    ['an audio modality', (m: any) => ({ ...m, modality: 'audio' }), 'MANIFEST_INVALID', /modality/],
    ['missing tables', (m: any) => ({ ...m, entropy: { ...m.entropy, tables: m.entropy.tables.slice(1) } }), 'MANIFEST_INVALID', /tables/],
    ['bad gains', (m: any) => ({ ...m, levels: m.levels.map((l: any, i: number) => (i === 2 ? { ...l, gains: l.gains.slice(1) } : l)) }), 'MANIFEST_INVALID', /levels\[2\].gains/],
    ['a broken CDF', (m: any) => ({ ...m, entropy: { ...m.entropy, tables: m.entropy.tables.map((t: any, i: number) => (i === 5 ? [t[0], [0, 10, 5, 65536]] : t)) } }), 'INVALID_ARGUMENT', /CDF table 5/],
    ['wrong tensor names', (m: any) => ({ ...m, encoder: { ...m.encoder, output: 'code' } }), 'MODEL_SIGNATURE_MISMATCH', /code/],
  ])('refuses %s', async (_what, edit, code, message) => {
    const e = await errorOf(engine.loadImageCodec(write(edit(base()))));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('refuses a file that is not JSON and a path that does not exist', async () => {
    writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    expect((await errorOf(engine.loadImageCodec(path.join(dir, 'bad.json')))).code).toBe('MANIFEST_INVALID');
    expect((await errorOf(engine.loadImageCodec(path.join(dir, 'nope.json')))).code).toBe('MODEL_NOT_FOUND');
  });
});
