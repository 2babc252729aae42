// The package's entry points as a consumer reaches them: by the package name, through the exports
// map (Node resolves a package's own name from inside it, as it does from a dependent's
// node_modules), from an ES module and from CommonJS, each round-tripping a video and an audio frame.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
const body = (imp: string) => `${imp}
const engine = await createEngine({ executionProvider: 'cpu' });
const s = engine.openSession({ maxLatencyMs: Infinity });
const rx = engine.openSession();
const W = 64, H = 48;
const image = Buffer.alloc(W * H * 3);
for (let i = 0; i < image.length; i++) image[i] = (i * 7) & 255;
const v = await s.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: image });
const dv = await rx.decompressFrame(v.payload);
const pcm = Buffer.alloc(640);
for (let i = 0; i < 320; i++) pcm.writeInt16LE(Math.round(5000 * Math.sin(i / 4)), i * 2);
const a = await s.compressFrame({ type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: pcm });
const da = await rx.decompressFrame(a.payload);
let code = null;
try { await engine.decompressFrame(Buffer.from('not a payload')); } catch (e) { code = e instanceof AicError ? e.code : String(e); }
console.log(JSON.stringify({ video: [dv.width, dv.height, dv.data.length], audio: [da.sampleRate, da.data.length], code }));
await engine.close();`;

function run(file: string, source: string): { video: number[]; audio: number[]; code: string } {
  // Inside the package's folder, so that its own name resolves through "exports".
  const dir = mkdtempSync(path.join(root, 'scratch-entry-'));
  const f = path.join(dir, file);
  writeFileSync(f, source);
  const r = spawnSync(process.execPath, [f], { cwd: dir, encoding: 'utf8' });
  spawnSync('rm', ['-rf', dir]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('package entry points', () => {
  const expected = { video: [64, 48, 64 * 48 * 3], audio: [16000, 640], code: 'CORRUPT_PAYLOAD' };
  it('an ES module imports the named API by the package name', () => {
    expect(run('consumer.mjs', body("import { createEngine, AicError } from '@auralink/aic';"))).toEqual(expected);
  }, 60_000);
  it('a CommonJS module requires it by the package name', () => {
    expect(run('consumer.cjs', `(async () => {\n${body("const { createEngine, AicError } = require('@auralink/aic');")}\n})().catch((e) => { console.error(e); process.exit(1); });`)).toEqual(expected);
  }, 60_000);
  it('exposes nothing but the entry and package.json', () => {
    const r = spawnSync(process.execPath, ['-e', "try { require.resolve('@auralink/aic/dist/engine.js'); console.log('resolved') } catch (e) { console.log(e.code) }"], { cwd: root, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    const p = spawnSync(process.execPath, ['-p', "require('@auralink/aic/package.json').name"], { cwd: root, encoding: 'utf8' });
    expect(p.stdout.trim()).toBe('@auralink/aic');
  });
});
