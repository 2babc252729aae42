// Engine start (issue 12, part 4): the parsed-manifest cache never stands in for the checks it
// skips re-running, and anything off in it falls back to a normal load.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, DEFAULT_AUDIO_MODEL, DEFAULT_IMAGE_MODEL } from '../src/index.js';
import { loadAudioManifest, loadImageManifest, nativeAudioConfig, nativeImageConfig } from '../src/manifest.js';
import { native } from '../src/native/load.js';
import { discardTarget, graphCache, saveTarget, storeOptimizedGraph } from '../src/graph-cache.js';
import { CHECK_BYTES, entryBody, sealEntry } from '../src/cache-check.js';
import type { Engine } from '../src/index.js';
import { speechLike, syntheticFrame, toS16 } from './media.js';

const temp = mkdtempSync(path.join(os.tmpdir(), 'aic-engine-start-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function copyModel(from: string, name: string): string {
  const dir = path.join(temp, name);
  cpSync(path.dirname(from), dir, { recursive: true });
  return path.join(dir, 'manifest.json');
}

function entries(cacheDir: string, ext = '.aicm'): string[] {
  return readdirSync(cacheDir).filter((f) => f.endsWith(ext)).map((f) => path.join(cacheDir, f));
}

// Where each codec graph's session came from (info().models[].encoder.optimizedGraph), by model name
// (the models are listed in the order their loads finished).
function sources(engine: Engine): string[] {
  return models(engine).flatMap((m) => [`${m.name} encoder ${m.encoder.optimizedGraph}`, `${m.name} decoder ${m.decoder.optimizedGraph}`]);
}

function models(engine: Engine) {
  return engine.info().models.sort((a, b) => (a.name < b.name ? -1 : 1));
}

// What both codecs produce for the same inputs: image payloads at three levels, audio payloads of a few frames.
async function outputs(engine: Engine): Promise<Buffer[]> {
  const frame = { data: syntheticFrame(96, 64), width: 96, height: 64, format: 'rgb24' as const };
  const out: Buffer[] = [];
  for (const level of [0, 4, 7]) out.push((await engine.imageCodec()!.encode(frame, { level })).payload);
  const image = await engine.imageCodec()!.decode(out[1]!);
  out.push(Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength));
  const enc = engine.audioCodec()!.createEncoder(16000, 1);
  const x = speechLike(16000, 0.2);
  for (let f = 0; f < 6; f++) out.push((await enc.encode({ data: toS16(x.subarray(f * 320, (f + 1) * 320)), format: 's16le' }, { level: 3 })).payload);
  return out;
}

async function start(image: string | false, audio: string | false, cacheDir: string | false) {
  return createEngine({ executionProvider: 'cpu', cacheDir, models: { image, audio } });
}

describe('engine start', () => {
  it('closes cache entries with a CRC-32C that any change to the entry breaks', () => {
    expect(native().crc32c(Buffer.from('123456789', 'latin1'))).toBe(0xe3069283);
    const body = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7919) & 0xff));
    const entry = sealEntry(body);
    expect(entry.length).toBe(body.length + CHECK_BYTES);
    expect(entryBody(entry)?.equals(body)).toBe(true);
    for (const at of [0, 1234, body.length - 1, body.length, entry.length - 1]) {
      const bad = Buffer.from(entry);
      bad[at]! ^= 0x10;
      expect(entryBody(bad), `byte ${at} flipped`).toBeNull();
    }
    expect(entryBody(entry.subarray(0, entry.length - 1))).toBeNull();
    expect(entryBody(Buffer.alloc(3))).toBeNull();
  });

  it('loads the same manifests from the cache as from their JSON', async () => {
    const cacheDir = path.join(temp, 'cache-same');
    const cold = await start(DEFAULT_IMAGE_MODEL, DEFAULT_AUDIO_MODEL, cacheDir);
    expect(entries(cacheDir)).toHaveLength(2);
    const warm = await start(DEFAULT_IMAGE_MODEL, DEFAULT_AUDIO_MODEL, cacheDir);
    try {
      for (const [engine, file] of [
        [warm, DEFAULT_IMAGE_MODEL],
        [cold, DEFAULT_IMAGE_MODEL],
      ] as const) {
        expect(engine.imageCodec()!.manifest).toEqual(JSON.parse(readFileSync(file, 'utf8')));
      }
      expect(warm.audioCodec()!.manifest).toEqual(JSON.parse(readFileSync(DEFAULT_AUDIO_MODEL, 'utf8')));
      expect(warm.info().codecs).toEqual(cold.info().codecs);
    } finally {
      await cold.close();
      await warm.close();
    }
  });

  it('still refuses a tampered graph when the manifest is cached', async () => {
    const manifest = copyModel(DEFAULT_IMAGE_MODEL, 'tampered');
    const cacheDir = path.join(temp, 'cache-tampered');
    const first = await start(manifest, false, cacheDir);
    expect(first.info().codecs.image).not.toBeNull();
    await first.close();
    expect(entries(cacheDir)).toHaveLength(1);
    // One byte of the encoder changed: the manifest (and so its cache entry) is untouched.
    const encoder = path.join(path.dirname(manifest), 'encoder.onnx');
    const bytes = readFileSync(encoder);
    bytes[bytes.length - 10] ^= 0x01;
    writeFileSync(encoder, bytes);
    const engine = await start(manifest, false, cacheDir);
    try {
      expect(engine.info().codecs.image).toBeNull();
      expect(engine.info().unavailable.image).toMatch(/^MANIFEST_INVALID: .*SHA-256.*the file was changed or replaced/);
      expect(engine.info().models).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('falls back to a normal load when a cache entry is corrupt, and rewrites it', async () => {
    const cacheDir = path.join(temp, 'cache-corrupt');
    await (await start(DEFAULT_IMAGE_MODEL, false, cacheDir)).close();
    const [entry] = entries(cacheDir);
    const good = readFileSync(entry!);
    const corruptions: Buffer[] = [
      Buffer.concat([good.subarray(0, good.length - 100)]), // truncated
      Buffer.from(good).fill(0x7f, good.length - 5000, good.length - 4990), // the tables altered
      Buffer.from('not a cache entry'),
      Buffer.alloc(0),
    ];
    for (const bad of corruptions) {
      writeFileSync(entry!, bad);
      const engine = await start(DEFAULT_IMAGE_MODEL, false, cacheDir);
      try {
        expect(engine.info().codecs.image).not.toBeNull();
        expect(engine.imageCodec()!.manifest).toEqual(JSON.parse(readFileSync(DEFAULT_IMAGE_MODEL, 'utf8')));
      } finally {
        await engine.close();
      }
      expect(readFileSync(entry!).equals(good)).toBe(true);
    }
  });

  it('works without a cache, and with a cache folder it cannot use', async () => {
    const notAFolder = path.join(temp, 'a-file');
    writeFileSync(notAFolder, 'x');
    for (const cacheDir of [false, notAFolder] as const) {
      const engine = await start(DEFAULT_IMAGE_MODEL, false, cacheDir);
      expect(engine.info().codecs.image).not.toBeNull();
      await engine.close();
    }
    expect(statSync(notAFolder).isFile()).toBe(true);
    await expect(createEngine({ executionProvider: 'cpu', cacheDir: 42 as unknown as string })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('builds the entropy tables on a worker into the same codec as the constructor does', async () => {
    const engine = await start(DEFAULT_IMAGE_MODEL, DEFAULT_AUDIO_MODEL, false);
    try {
      const binding = native();
      const { manifest } = await loadImageManifest(DEFAULT_IMAGE_MODEL);
      const config = nativeImageConfig(manifest);
      const model = engine.imageCodec()!.model.native();
      const inline = new binding.ImageCodec(model, config);
      const prepared = new binding.ImageCodec(model, { ...config, entropyTables: await binding.ImageCodec.prepareTables(config) });
      const frame = { data: syntheticFrame(64, 48), width: 64, height: 48, format: 'rgb24' as const };
      for (const level of [0, 3, 7]) {
        const a = inline.encodeSync(frame, { level }).payload;
        expect(Buffer.compare(a, prepared.encodeSync(frame, { level }).payload)).toBe(0);
        // The engine's codec was built from prepared tables too.
        expect(Buffer.compare(a, (await engine.imageCodec()!.encode(frame, { level })).payload)).toBe(0);
      }
      // Tables of other dimensions, anything else, or one made by hand are refused.
      const audio = nativeAudioConfig((await loadAudioManifest(DEFAULT_AUDIO_MODEL)).manifest);
      const audioTables = await binding.AudioCodec.prepareTables(audio);
      expect(() => new binding.ImageCodec(model, { ...config, entropyTables: audioTables })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/entropyTables were prepared for 8 levels x 321 channels/) }));
      expect(() => new binding.ImageCodec(model, { ...config, entropyTables: {} as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      const Tables = Object.getPrototypeOf(audioTables).constructor as new () => unknown;
      expect(() => new Tables()).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      // A broken table rejects the promise with the constructor's error.
      const broken = { ...config, cdfs: Uint32Array.from(config.cdfs) };
      broken.cdfs[1] = 0;
      await expect(binding.ImageCodec.prepareTables(broken)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/CDF table 0 is not strictly increasing at entry 1/) });
      expect(() => new binding.ImageCodec(model, broken)).toThrow(/CDF table 0 is not strictly increasing at entry 1/);
    } finally {
      await engine.close();
    }
  });

  it('caches the optimised graphs: the same results as without, and anything off falls back', async () => {
    const cacheDir = path.join(temp, 'cache-graphs');
    const cold = await start(DEFAULT_IMAGE_MODEL, DEFAULT_AUDIO_MODEL, cacheDir);
    const none = await start(DEFAULT_IMAGE_MODEL, DEFAULT_AUDIO_MODEL, false);
    const warm = await start(DEFAULT_IMAGE_MODEL, DEFAULT_AUDIO_MODEL, cacheDir);
    try {
      expect(sources(cold).every((s) => s.endsWith(' saved'))).toBe(true);
      expect(sources(none).every((s) => s.endsWith(' null'))).toBe(true);
      expect(sources(warm).every((s) => s.endsWith(' cache'))).toBe(true);
      expect(entries(cacheDir, '.aicg')).toHaveLength(4);
      expect(readdirSync(cacheDir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      const expected = await outputs(none);
      for (const engine of [cold, warm]) {
        const got = await outputs(engine);
        got.forEach((b, i) => expect(Buffer.compare(b, expected[i]!)).toBe(0));
      }
      expect(models(warm).map((m) => [m.encoder.inputs, m.encoder.outputs, m.decoder.inputs, m.decoder.outputs])).toEqual(models(none).map((m) => [m.encoder.inputs, m.encoder.outputs, m.decoder.inputs, m.decoder.outputs]));
    } finally {
      await Promise.all([cold.close(), none.close(), warm.close()]);
    }

    // An entry altered, cut short, emptied, or holding a graph that is not this one's (a valid
    // entry of the audio encoder's optimised graph under the image encoder's SHA-256): that graph
    // is loaded from its source, and its entry written again; the others still come from the cache.
    const image = JSON.parse(readFileSync(DEFAULT_IMAGE_MODEL, 'utf8')) as { encoder: { sha256: string } };
    const audio = JSON.parse(readFileSync(DEFAULT_AUDIO_MODEL, 'utf8')) as { encoder: { sha256: string } };
    const entryOf = (sha: string) => entries(cacheDir, '.aicg').find((f) => path.basename(f).startsWith(`graph-${sha}-`))!;
    const file = entryOf(image.encoder.sha256);
    const good = readFileSync(file);
    const probe = await start(false, false, false);
    const info = probe.info();
    await probe.close();
    const cache = graphCache(cacheDir, info.ortVersion, info.graphOptimization, native().cpuSignature);
    const foreign = async () => {
      // The audio encoder's optimised graph, from its own (valid) entry, stored as the image encoder's.
      const other = readFileSync(entryOf(audio.encoder.sha256));
      const headerLength = other.readUInt32LE(8);
      const written = saveTarget(cache, image.encoder.sha256);
      writeFileSync(written, other.subarray(12 + headerLength, other.length - CHECK_BYTES));
      await storeOptimizedGraph(cache, image.encoder.sha256, written);
      return readFileSync(file);
    };
    const corruptions: Array<() => Buffer | Promise<Buffer>> = [
      () => Buffer.from(good).fill(0x55, good.length >> 1, (good.length >> 1) + 16),
      () => good.subarray(0, good.length - 1000),
      () => Buffer.alloc(0),
      foreign,
    ];
    for (const corrupt of corruptions) {
      const bad = await corrupt();
      writeFileSync(file, bad);
      const engine = await start(DEFAULT_IMAGE_MODEL, DEFAULT_AUDIO_MODEL, cacheDir);
      try {
        expect(sources(engine)).toEqual([
          'aic-audio-v2@2.1.0 encoder cache',
          'aic-audio-v2@2.1.0 decoder cache',
          'aic-image-v1@1.0.0 encoder saved',
          'aic-image-v1@1.0.0 decoder cache',
        ]);
        const got = await outputs(engine);
        expect(got.length).toBeGreaterThan(0);
      } finally {
        await engine.close();
      }
      expect(readFileSync(file).equals(bad)).toBe(false);
      const again = await start(DEFAULT_IMAGE_MODEL, false, cacheDir);
      expect(sources(again)).toEqual(['aic-image-v1@1.0.0 encoder cache', 'aic-image-v1@1.0.0 decoder cache']);
      await again.close();
    }
    await discardTarget(path.join(cacheDir, 'nothing-there'));
  });

  it('keeps no optimised graphs with optimisation off', async () => {
    const cacheDir = path.join(temp, 'cache-unoptimised');
    const engine = await createEngine({ executionProvider: 'cpu', cacheDir, graphOptimization: 'disabled', models: { image: DEFAULT_IMAGE_MODEL, audio: false } });
    try {
      expect(sources(engine)).toEqual(['aic-image-v1@1.0.0 encoder null', 'aic-image-v1@1.0.0 decoder null']);
      expect(entries(cacheDir, '.aicg')).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it('reads files natively into memory a model load shares', async () => {
    const binding = native();
    const file = path.join(path.dirname(DEFAULT_IMAGE_MODEL), 'encoder.onnx');
    const bytes = await binding.readFile(file);
    expect(bytes.equals(readFileSync(file))).toBe(true);
    await expect(binding.readFile(path.join(temp, 'not-there'))).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect((await binding.readFile(path.join(temp, 'a-file'))).toString()).toBe('x');
    // A load from that memory (the whole Buffer, or a view into it) while the Buffer goes away.
    const engine = new binding.Engine({ executionProvider: 'cpu' });
    try {
      const again = await binding.readFile(file);
      const padded = Buffer.concat([Buffer.alloc(16), again]);
      const view = (await binding.readFile(file)).subarray(0);
      const loads = [engine.loadModel({ name: 'whole', encoder: again, decoder: view }), engine.loadModel({ name: 'copied', encoder: padded.subarray(16), decoder: padded.subarray(16) })];
      const models = await Promise.all(loads);
      expect(models.map((m) => m.info().encoder.inputs)).toEqual([models[1]!.info().encoder.inputs, models[1]!.info().encoder.inputs]);
      for (const m of models) m.close();
    } finally {
      engine.close();
    }
  });

  it('does not read an unchanged manifest again, and sees a changed one', async () => {
    const cacheDir = path.join(temp, 'cache-fingerprint');
    mkdirSync(cacheDir);
    const reads: string[] = [];
    const reading = (file: string) => {
      reads.push(path.basename(file));
      return readFile(file);
    };
    // The shipped manifest's change time is long past: its fingerprint is recorded on the first load.
    const first = await loadImageManifest(DEFAULT_IMAGE_MODEL, { cacheDir, readFile: reading });
    expect(reads).toContain('manifest.json');
    expect(entries(cacheDir, '.aicf')).toHaveLength(1);
    reads.length = 0;
    const second = await loadImageManifest(DEFAULT_IMAGE_MODEL, { cacheDir, readFile: reading });
    expect(reads).not.toContain('manifest.json');
    expect(second.manifest).toEqual(first.manifest);
    // A fresh copy is read and hashed until its change time has settled; then a change to it
    // (new bytes, a new change time) is seen at once.
    const copy = copyModel(DEFAULT_IMAGE_MODEL, 'fingerprinted');
    const edited = { ...(JSON.parse(readFileSync(copy, 'utf8')) as Record<string, unknown>), description: 'first' };
    writeFileSync(copy, JSON.stringify(edited));
    reads.length = 0;
    await loadImageManifest(copy, { cacheDir, readFile: reading });
    expect(entries(cacheDir, '.aicf')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 2100));
    expect((await loadImageManifest(copy, { cacheDir, readFile: reading })).manifest.description).toBe('first');
    expect(entries(cacheDir, '.aicf')).toHaveLength(2);
    reads.length = 0;
    expect((await loadImageManifest(copy, { cacheDir, readFile: reading })).manifest.description).toBe('first');
    expect(reads).not.toContain('manifest.json');
    writeFileSync(copy, JSON.stringify({ ...edited, description: 'second' }));
    expect((await loadImageManifest(copy, { cacheDir, readFile: reading })).manifest.description).toBe('second');
    expect(reads).toContain('manifest.json');
    // A fingerprint that does not check out is ignored.
    for (const f of entries(cacheDir, '.aicf')) writeFileSync(f, 'not a fingerprint');
    reads.length = 0;
    expect((await loadImageManifest(copy, { cacheDir, readFile: reading })).manifest.description).toBe('second');
    expect(reads).toContain('manifest.json');

    // Graphs: with their optimised graphs cached, settled graphs unchanged since they were checked
    // are not read (the engine loads them from the cache alone); a changed one is read, checked and
    // refused.
    const graphDir = path.join(temp, 'cache-graph-fingerprints');
    const first2 = await start(copy, false, graphDir);
    expect(sources(first2)).toEqual(['aic-image-v1@1.0.0 encoder saved', 'aic-image-v1@1.0.0 decoder saved']);
    const expected = (await first2.imageCodec()!.encode({ data: syntheticFrame(64, 48), width: 64, height: 48, format: 'rgb24' }, { level: 5 })).payload;
    await first2.close();
    expect(entries(graphDir, '.aicf').filter((f) => path.basename(f).startsWith('graph-at-'))).toHaveLength(2);
    const binding = native() as { readFile: (file: string) => Promise<Buffer> };
    const nativeRead = binding.readFile;
    const nativeReads: string[] = [];
    binding.readFile = (file: string) => (nativeReads.push(path.basename(file)), nativeRead(file));
    let warm: Engine;
    try {
      warm = await start(copy, false, graphDir);
    } finally {
      binding.readFile = nativeRead;
    }
    expect(nativeReads.filter((f) => f.endsWith('.onnx'))).toEqual([]);
    expect(nativeReads.filter((f) => f.endsWith('.aicg'))).toHaveLength(2);
    try {
      expect(sources(warm)).toEqual(['aic-image-v1@1.0.0 encoder cache', 'aic-image-v1@1.0.0 decoder cache']);
      const got = (await warm.imageCodec()!.encode({ data: syntheticFrame(64, 48), width: 64, height: 48, format: 'rgb24' }, { level: 5 })).payload;
      expect(Buffer.compare(got, expected)).toBe(0);
    } finally {
      await warm.close();
    }
    const encoderFile = path.join(path.dirname(copy), 'encoder.onnx');
    const tampered = readFileSync(encoderFile);
    tampered[tampered.length - 10] ^= 0x01;
    writeFileSync(encoderFile, tampered);
    const refused = await start(copy, false, graphDir);
    try {
      expect(refused.info().codecs.image).toBeNull();
      expect(refused.info().unavailable.image).toMatch(/^MANIFEST_INVALID: .*SHA-256.*the file was changed or replaced/);
    } finally {
      await refused.close();
    }
  });
});

// ONNX Runtime's one-time start runs on a native thread from the package's load on
// (native/core/runtime/warmup.h, src/native/preload.ts); what the package loads with it is kept small.
describe('package load', () => {
  const entry = path.join(__dirname, '..', 'dist', 'index.js');
  const node = (script: string) => spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 });

  it('loads the addon and starts the warm-up, but not sharp or prom-client', () => {
    const r = node(`
      require(${JSON.stringify(entry)});
      const keys = Object.keys(require.cache);
      console.log(JSON.stringify({
        addon: keys.some((k) => k.endsWith('aic.node')),
        sharp: keys.some((k) => /[\\\\/]node_modules[\\\\/]sharp[\\\\/]/.test(k)),
        prom: keys.some((k) => /[\\\\/]node_modules[\\\\/]prom-client[\\\\/]/.test(k)),
      }));
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ addon: true, sharp: false, prom: false });
  });

  it('exits cleanly (with the code asked for) however soon after loading the process ends', () => {
    // The warm-up may still be inside ONNX Runtime when the program ends: 'exit' waits for it,
    // so that ONNX Runtime's static objects are not destroyed under it.
    for (const [script, code] of [
      [`require(${JSON.stringify(entry)}); process.exit(3)`, 3],
      [`require(${JSON.stringify(entry)})`, 0],
      [`require(${JSON.stringify(entry)}); setTimeout(() => process.exit(5), 4)`, 5],
      [`new (require('node:worker_threads').Worker)(${JSON.stringify(`require(${JSON.stringify(entry)})`)}, { eval: true }).on('exit', (c) => process.exit(c + 7))`, 7],
    ] as const) {
      for (let i = 0; i < 3; i++) {
        const r = node(script);
        expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: code, signal: null, stderr: '' });
      }
    }
  });

  it('starts engines with the caller\'s threading after the warm-up, and refuses a conflicting one as before', async () => {
    const r = node(`
      const { createEngine } = require(${JSON.stringify(entry)});
      (async () => {
        const a = await createEngine({ executionProvider: 'cpu', intraOpThreads: 1, cacheDir: false });
        let code = null;
        try { await createEngine({ executionProvider: 'cpu', intraOpThreads: 2, cacheDir: false }); } catch (e) { code = e.code; }
        const x = new Float32Array(16 * 16 * 3).fill(0.5);
        const s = a.openSession({ sessionId: 's', interFrames: false });
        const out = await s.compressFrame({ type: 'video', format: 'rgb24', width: 16, height: 16, data: Buffer.from(new Uint8Array(16 * 16 * 3).fill(128)) });
        console.log(JSON.stringify({ threads: a.info().intraOpThreads, conflict: code, status: out.status }));
        await a.close();
      })().catch((e) => { console.error(e); process.exit(1); });
    `);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ threads: 1, conflict: 'INVALID_ARGUMENT', status: 'success' });
  });
});
