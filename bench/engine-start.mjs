// Engine start: createEngine() (both shipped codecs, CPU) against onnxruntime-node creating
// InferenceSessions for the same four graphs, each measurement in a fresh child process,
// alternating ours and theirs. Also a breakdown of where createEngine()'s time goes.
//
//   node bench/engine-start.mjs [--runs 15] [--json out.json] [--cache-dir DIR|off]
//
// Without --cache-dir, a fresh temporary folder is used (and removed at the end).
//
// Both sides load their native binding before the clock starts (require + dlopen), so the figure
// is the call itself: ours from createEngine() to the resolved engine, theirs from the first
// InferenceSession.create() to the last one resolved (Promise.all; onnxruntime-node 1.30 creates
// each session synchronously inside create(), so they run one after another). Ours uses the
// parsed-manifest cache by default (`--cache-dir off` disables it); the first run of a fresh
// cache directory pays for filling it and is reported apart ("cold").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg } from './args.mjs';
import { summarize } from './stats.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const MODELS = ['aic-image-v1', 'aic-audio-v2'];
const GRAPHS = MODELS.flatMap((m) => ['encoder', 'decoder'].map((g) => path.join(root, 'models', m, `${g}.onnx`)));
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function child(kind, cacheDir) {
  if (kind === 'theirs') {
    const ort = require('onnxruntime-node');
    const t0 = now();
    const sessions = await Promise.all(GRAPHS.map((p) => ort.InferenceSession.create(p)));
    const ms = now() - t0;
    await Promise.all(sessions.map((s) => s.release()));
    return { ms };
  }
  const aic = require(path.join(root, 'dist', 'index.js'));
  require(path.join(root, 'dist', 'native', 'load.js')).native();
  const options = { executionProvider: 'cpu', cacheDir: cacheDir === 'off' ? false : cacheDir };
  if (kind === 'ours') {
    const t0 = now();
    const engine = await aic.createEngine(options);
    const ms = now() - t0;
    const info = engine.info();
    if (!info.codecs.image || !info.codecs.audio) throw new Error(`a codec did not load: ${JSON.stringify(info.unavailable)}`);
    await engine.close();
    return { ms };
  }
  // breakdown: the same steps createEngine() takes, one after another, each timed.
  const { readFile } = require('node:fs/promises');
  const { createHash } = require('node:crypto');
  const manifest = require(path.join(root, 'dist', 'manifest.js'));
  const binding = require(path.join(root, 'dist', 'native', 'load.js')).native();
  const parts = {};
  const add = (k, v) => (parts[k] = (parts[k] ?? 0) + v);
  let t = now();
  const engine = new binding.Engine({ executionProvider: 'cpu' });
  add('native engine (Ort::Env, on its own thread)', now() - t);
  for (const m of MODELS) {
    const file = path.join(root, 'models', m, 'manifest.json');
    if (cacheDir !== 'off') {
      // What createEngine() does with a warm cache: manifest bytes, their SHA-256 (the key), the
      // verified entry, and both graphs read and checked against their SHA-256.
      t = now();
      const loaded = await (m.includes('image') ? manifest.loadImageManifest(file, { cacheDir }) : manifest.loadAudioManifest(file, { cacheDir }));
      add('manifest from cache + graph read + SHA-256', now() - t);
      const mf = loaded.manifest;
      const bytes = { encoder: loaded.encoderBytes, decoder: loaded.decoderBytes };
      for (const g of ['encoder', 'decoder']) {
        t = now();
        engine.loadModelSync({ name: `${m}-${g}`, encoder: bytes[g], decoder: bytes[g] }).close();
        add(`ORT session ${m} ${g}`, (now() - t) / 2);
      }
      const model = engine.loadModelSync({ name: m, encoder: bytes.encoder, decoder: bytes.decoder });
      t = now();
      if (m.includes('image')) new binding.ImageCodec(model, manifest.nativeImageConfig(mf));
      else new binding.AudioCodec(model, manifest.nativeAudioConfig(mf));
      add('codec construction (config pack + native)', now() - t);
      model.close();
      continue;
    }
    t = now();
    const text = await readFile(file, 'utf8');
    add('manifest read', now() - t);
    t = now();
    const raw = JSON.parse(text);
    add('manifest JSON.parse', now() - t);
    t = now();
    const mf = m.includes('image') ? manifest.validateImageManifest(raw, file) : manifest.validateAudioManifest(raw, file);
    add('manifest validate', now() - t);
    const bytes = {};
    for (const g of ['encoder', 'decoder']) {
      t = now();
      bytes[g] = await readFile(path.join(root, 'models', m, mf[g].file));
      add('graph read', now() - t);
      t = now();
      createHash('sha256').update(bytes[g]).digest('hex');
      add('graph SHA-256', now() - t);
    }
    for (const g of ['encoder', 'decoder']) {
      // One graph at a time: a model of the same graph twice gives its session time (halved;
      // the two sessions are created in parallel, so this is an upper bound).
      t = now();
      const model = engine.loadModelSync({ name: `${m}-${g}`, encoder: bytes[g], decoder: bytes[g] });
      add(`ORT session ${m} ${g}`, (now() - t) / 2);
      model.close();
    }
    const model = engine.loadModelSync({ name: m, encoder: bytes.encoder, decoder: bytes.decoder });
    t = now();
    if (m.includes('image')) new binding.ImageCodec(model, manifest.nativeImageConfig(mf));
    else new binding.AudioCodec(model, manifest.nativeAudioConfig(mf));
    add('codec construction (config pack + native)', now() - t);
    model.close();
  }
  engine.close();
  return { parts };
}

function spawn(kind, cacheDir) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, '--cache-dir', cacheDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${kind} child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const childKind = arg('child', null);
if (childKind) {
  const out = await child(childKind, arg('cache-dir', 'off'));
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  const runs = Number(arg('runs', '15'));
  const requested = arg('cache-dir', null);
  const cacheDir = requested ?? mkdtempSync(path.join(os.tmpdir(), 'aic-engine-start-'));
  const cold = cacheDir === 'off' ? null : spawn('ours', cacheDir).ms;
  const ours = [];
  const theirs = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which goes first so that neither always follows the other.
    const order = i % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const k of order) (k === 'ours' ? ours : theirs).push(spawn(k, cacheDir).ms);
  }
  const breakdowns = [];
  for (let i = 0; i < Math.min(runs, 7); i++) breakdowns.push(spawn('breakdown', cacheDir).parts);
  const parts = {};
  for (const k of Object.keys(breakdowns[0])) parts[k] = summarize(breakdowns.map((b) => b[k])).median;
  const o = summarize(ours);
  const t = summarize(theirs);
  const result = {
    runs,
    cache: cacheDir === 'off' ? 'off' : 'on',
    coldFirstRunMs: cold,
    ours: { median: o.median, p95: o.p95, min: o.min },
    theirs: { median: t.median, p95: t.p95, min: t.min },
    ratioMedian: o.median / t.median,
    breakdownMedianMs: parts,
  };
  const f = (x) => x.toFixed(1).padStart(7);
  console.log(`engine start, ${runs} fresh processes each (cache ${result.cache}${cold !== null ? `, cold first run ${cold.toFixed(1)} ms` : ''})`);
  console.log(`  createEngine()            median ${f(o.median)} ms  p95 ${f(o.p95)} ms`);
  console.log(`  onnxruntime-node x4       median ${f(t.median)} ms  p95 ${f(t.p95)} ms`);
  console.log(`  ratio (median)            ${result.ratioMedian.toFixed(2)}x`);
  console.log('  breakdown (steps one after another, median ms):');
  for (const [k, v] of Object.entries(parts)) console.log(`    ${k.padEnd(44)} ${f(v)}`);
  const json = arg('json', null);
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  if (!requested) rmSync(cacheDir, { recursive: true, force: true });
}
