// Engine start: createEngine() (both shipped codecs, CPU) against onnxruntime-node creating
// InferenceSessions for the same four graphs, each measurement in a fresh child process,
// alternating ours and theirs. Also a breakdown of where createEngine()'s time goes.
//
//   node bench/engine-start.mjs [--runs 15] [--json out.json] [--cache-dir DIR|off]
//       [--baseline CHECKOUT [--baseline-label TEXT] | --baselines LABEL=CHECKOUT,LABEL=CHECKOUT] [--report]
//
// Without --cache-dir, a fresh temporary folder is used (and removed at the end). --baseline
// names another built checkout of this package (dist/ and build/ in place, e.g. an earlier commit
// exported with `git archive`): its createEngine() runs as a third contender in the same rounds,
// with a cache folder of its own, so that a change is measured before and after in one run;
// --baselines gives several (oldest first: the first is "the baseline"), one per change.
// --report writes docs/results/engine-start.json and section 6 of docs/BENCHMARKS.md (rendered
// again from docs/results/bench.json, the rest unchanged).
//
// Both sides load their native binding before the clock starts (require + dlopen), so the figure
// is the call itself: ours from createEngine() to the resolved engine, theirs from the first
// InferenceSession.create() to the last one resolved (Promise.all; onnxruntime-node 1.30 creates
// each session synchronously inside create(), so they run one after another). Ours uses its cache
// folder by default (parsed manifests, their fingerprints, optimised graphs; `--cache-dir off`
// disables it); the first run of a fresh cache folder pays for filling it and is reported apart
// ("cold"). "JS thread busy" is performance.eventLoopUtilization()'s active time during the call.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

async function child(kind, cacheDir, root) {
  if (kind === 'theirs') {
    const tRequire = now();
    const ort = require('onnxruntime-node');
    const t0 = now();
    const sessions = await Promise.all(GRAPHS.map((p) => ort.InferenceSession.create(p)));
    const ms = now() - t0;
    const fromRequireMs = now() - tRequire;
    await Promise.all(sessions.map((s) => s.release()));
    return { ms, fromRequireMs };
  }
  if (kind === 'breakdown') return { parts: await breakdown(cacheDir, root) };
  const tRequire = now();
  const aic = require(path.join(root, 'dist', 'index.js'));
  require(path.join(root, 'dist', 'native', 'load.js')).native();
  const options = { executionProvider: 'cpu', cacheDir: cacheDir === 'off' ? false : cacheDir };
  const elu = performance.eventLoopUtilization();
  const t0 = now();
  const engine = await aic.createEngine(options);
  const ms = now() - t0;
  const fromRequireMs = now() - tRequire;
  // How long the JS thread itself was busy meanwhile (JS and the native calls made on it).
  const jsMs = performance.eventLoopUtilization(elu).active;
  const info = engine.info();
  if (!info.codecs.image || !info.codecs.audio) throw new Error(`a codec did not load: ${JSON.stringify(info.unavailable)}`);
  await engine.close();
  return { ms, jsMs, fromRequireMs };
}

// The stages of createEngine() one after another, each timed on its own, in a fresh process with
// a warm cache: what each costs, not the critical path (createEngine() overlaps them). Works on
// an earlier checkout too (--baseline): stages it does not have are left out.
async function breakdown(cacheDir, root) {
  const parts = {};
  const add = (k, v) => (parts[k] = (parts[k] ?? 0) + v);
  let t = now();
  require(path.join(root, 'dist', 'index.js'));
  add('package load (require)', now() - t);
  t = now();
  const binding = require(path.join(root, 'dist', 'native', 'load.js')).native();
  add('addon + ONNX Runtime load (dlopen)', now() - t);
  // Builds that start ONNX Runtime's one-time work when the package loads (native/core/runtime/warmup.h):
  // what of it was still running once require() returned.
  if (typeof binding.awaitWarmup === 'function') {
    t = now();
    binding.awaitWarmup();
    add('ONNX Runtime warm-up still running after require (awaited)', now() - t);
  }
  const { readFile } = require('node:fs/promises');
  const { createHash } = require('node:crypto');
  const manifest = require(path.join(root, 'dist', 'manifest.js'));
  let graphCacheModule = null;
  try {
    graphCacheModule = require(path.join(root, 'dist', 'graph-cache.js'));
  } catch {
    graphCacheModule = null;
  }
  const useCache = cacheDir !== 'off';
  // The environment: a first pair of sessions of one graph, less a second pair of the same.
  const warmGraph = await readFile(path.join(root, 'models', 'aic-audio-v2', 'decoder.onnx'));
  t = now();
  const engine = new binding.Engine({ executionProvider: 'cpu' });
  engine.loadModelSync({ name: 'warm-1', encoder: warmGraph, decoder: warmGraph }).close();
  const first = now() - t;
  t = now();
  engine.loadModelSync({ name: 'warm-2', encoder: warmGraph, decoder: warmGraph }).close();
  add('ORT environment + first-session set-up', first - (now() - t));
  const info = engine.info();
  const cache = useCache && graphCacheModule ? graphCacheModule.graphCache(cacheDir, info.ortVersion, info.graphOptimization, binding.cpuSignature) : null;
  // As createEngine() reads them: natively, with the optimised-graph cache and fingerprints where
  // this build has them.
  const engineReads = cache && binding.readFile ? { graphCache: cache, readFile: (f) => binding.readFile(f), skipUnchangedGraphs: true } : {};
  for (const m of MODELS) {
    const file = path.join(root, 'models', m, 'manifest.json');
    const load = m.includes('image') ? manifest.loadImageManifest : manifest.loadAudioManifest;
    t = now();
    const loaded = await load(file, { cacheDir: useCache ? cacheDir : false, ...engineReads });
    add(!useCache ? 'manifests parsed + graphs read + SHA-256' : cache ? 'manifests + graphs as createEngine() reads them' : 'manifests from their cache + graphs read + SHA-256', now() - t);
    const mf = loaded.manifest;
    const bytes = {};
    for (const g of ['encoder', 'decoder']) {
      t = now();
      bytes[g] = await readFile(path.join(root, 'models', m, mf[g].file));
      createHash('sha256').update(bytes[g]).digest('hex');
      add(cache ? 'graphs read + SHA-256 (a graph not fingerprinted)' : '  of which graphs read + SHA-256', now() - t);
    }
    const optimized = {};
    if (cache) {
      for (const g of ['encoder', 'decoder']) {
        t = now();
        optimized[g] = await graphCacheModule.readOptimizedGraph(cache, mf[g].sha256, ...(binding.readFile ? [(f) => binding.readFile(f)] : []));
        add('cached optimised graphs read + checked', now() - t);
      }
    }
    for (const g of ['encoder', 'decoder']) {
      // A model of the same graph twice gives one session's time (halved; the two are created in
      // parallel, so this is an upper bound).
      t = now();
      engine.loadModelSync({ name: `${m}-${g}`, encoder: bytes[g], decoder: bytes[g] }).close();
      add(`ORT session ${m} ${g} (optimised now)`, (now() - t) / 2);
      if (optimized[g]) {
        t = now();
        const model = engine.loadModelSync({ name: `${m}-${g}-cached`, encoder: bytes[g], decoder: bytes[g] }, { encoder: { optimized: optimized[g] }, decoder: { optimized: optimized[g] } });
        const ms = (now() - t) / 2;
        if (model.info().encoder.optimizedGraph !== 'cache') throw new Error(`the cached optimised ${m} ${g} was not used`);
        add(`ORT session ${m} ${g} (cached optimised graph)`, ms);
        model.close();
      }
    }
    const model = engine.loadModelSync({ name: m, encoder: bytes.encoder, decoder: bytes.decoder });
    const Codec = m.includes('image') ? binding.ImageCodec : binding.AudioCodec;
    t = now();
    const config = m.includes('image') ? manifest.nativeImageConfig(mf) : manifest.nativeAudioConfig(mf);
    add('codec config pack', now() - t);
    if (Codec.prepareTables) {
      t = now();
      config.entropyTables = await Codec.prepareTables(config);
      add('entropy tables (prepareTables, on a worker)', now() - t);
      t = now();
      new Codec(model, config);
      add('codec construction (native, tables prepared)', now() - t);
    } else {
      t = now();
      new Codec(model, config);
      add('codec construction (native, tables included)', now() - t);
    }
    model.close();
  }
  engine.close();
  return parts;
}

function spawn(kind, cacheDir, codeRoot = root) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, '--cache-dir', cacheDir, '--root', codeRoot], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${kind} child failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

const childKind = arg('child', null);
if (childKind) {
  const out = await child(childKind, arg('cache-dir', 'off'), path.resolve(arg('root', root)));
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  const startedAt = new Date().toISOString();
  const loadAverage = os.loadavg();
  const runs = Number(arg('runs', '15'));
  const requested = arg('cache-dir', null);
  const cacheDir = requested ?? mkdtempSync(path.join(os.tmpdir(), 'aic-engine-start-'));
  // Earlier builds, oldest first: --baseline DIR [--baseline-label TEXT], or --baselines LABEL=DIR,LABEL=DIR.
  const baselines = (arg('baselines', null)?.split(',') ?? (arg('baseline', null) ? [`${arg('baseline-label', arg('baseline', null))}=${arg('baseline', null)}`] : []))
    .filter(Boolean)
    .map((item) => {
      const at = item.lastIndexOf('=');
      const dir = path.resolve(at >= 0 ? item.slice(at + 1) : item);
      return { label: at >= 0 ? item.slice(0, at) : dir, dir, cache: cacheDir === 'off' ? 'off' : mkdtempSync(path.join(os.tmpdir(), 'aic-engine-start-before-')) };
    });
  const cold = cacheDir === 'off' ? null : spawn('ours', cacheDir).ms;
  const coldBefore = baselines.map((bl) => (bl.cache !== 'off' ? spawn('before', bl.cache, bl.dir).ms : null));
  const kinds = ['ours', 'theirs', ...baselines.map((_, i) => i)];
  const samples = new Map(kinds.map((k) => [k, []]));
  const jsBusy = new Map(kinds.map((k) => [k, []]));
  const fromRequire = new Map(kinds.map((k) => [k, []]));
  const run = (k) => (typeof k === 'number' ? spawn('before', baselines[k].cache, baselines[k].dir) : spawn(k, cacheDir));
  for (let i = 0; i < runs; i++) {
    // Rotate which goes first so that none always follows another.
    const order = kinds.map((_, j) => kinds[(i + j) % kinds.length]);
    if (kinds.length === 2 && i % 2 === 1) order.reverse();
    for (const k of order) {
      const r = run(k);
      samples.get(k).push(r.ms);
      if (r.jsMs !== undefined) jsBusy.get(k).push(r.jsMs);
      if (r.fromRequireMs !== undefined) fromRequire.get(k).push(r.fromRequireMs);
    }
  }
  const medianParts = (list) => {
    const keys = [...new Set(list.flatMap((b) => Object.keys(b)))];
    return Object.fromEntries(keys.map((k) => [k, summarize(list.map((b) => b[k]).filter((v) => v !== undefined)).median]));
  };
  const breakdowns = [];
  const breakdownsBefore = baselines.map(() => []);
  for (let i = 0; i < Math.min(runs, 7); i++) {
    breakdowns.push(spawn('breakdown', cacheDir).parts);
    baselines.forEach((bl, j) => breakdownsBefore[j].push(spawn('breakdown', bl.cache, bl.dir).parts));
  }
  const parts = medianParts(breakdowns);
  const o = summarize(samples.get('ours'));
  const t = summarize(samples.get('theirs'));
  const js = (k) => (jsBusy.get(k).length ? summarize(jsBusy.get(k)).median : null);
  // From the package's require() to the engine (or the last session) ready: what a program's start pays.
  const whole = (k) => (fromRequire.get(k).length ? summarize(fromRequire.get(k)) : null);
  const before = baselines.map((bl, i) => {
    const b = summarize(samples.get(i));
    const w = whole(i);
    return { label: bl.label, dir: bl.dir, median: b.median, p95: b.p95, min: b.min, coldFirstRunMs: coldBefore[i], ratioMedian: b.median / t.median, jsThreadBusyMedianMs: js(i), fromRequire: w && { median: w.median, p95: w.p95, ratioMedian: w.median / whole('theirs').median }, breakdownMedianMs: medianParts(breakdownsBefore[i]) };
  });
  const first = before[0];
  const result = {
    command: `node bench/engine-start.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    date: startedAt,
    loadAverage,
    machine: `${os.cpus()[0]?.model?.trim() ?? 'unknown'} x ${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()} ${os.arch()}, Node ${process.version}`,
    runs,
    cache: cacheDir === 'off' ? 'off' : 'on',
    coldFirstRunMs: cold,
    ours: { median: o.median, p95: o.p95, min: o.min },
    theirs: { median: t.median, p95: t.p95, min: t.min },
    ratioMedian: o.median / t.median,
    fromRequire: {
      ours: { median: whole('ours').median, p95: whole('ours').p95 },
      theirs: { median: whole('theirs').median, p95: whole('theirs').p95 },
      ratioMedian: whole('ours').median / whole('theirs').median,
    },
    ...(first
      ? {
          baseline: first.dir,
          baselineLabel: first.label,
          before: { median: first.median, p95: first.p95, min: first.min, coldFirstRunMs: first.coldFirstRunMs },
          ratioBeforeMedian: first.ratioMedian,
          baselines: before,
        }
      : {}),
    jsThreadBusyMedianMs: { ours: js('ours'), ...(first ? { before: first.jsThreadBusyMedianMs } : {}) },
    breakdownMedianMs: parts,
    ...(first ? { breakdownBeforeMedianMs: first.breakdownMedianMs } : {}),
  };
  const f = (x) => (typeof x === 'number' ? x.toFixed(1) : '-').padStart(7);
  console.log(`engine start, ${runs} fresh processes each (cache ${result.cache}${cold !== null ? `, cold first run ${cold.toFixed(1)} ms` : ''})`);
  console.log(`  createEngine()            median ${f(o.median)} ms  p95 ${f(o.p95)} ms  ratio ${result.ratioMedian.toFixed(2)}x  JS thread busy ${f(js('ours'))} ms`);
  for (const b of before) {
    console.log(`  baseline ${b.label.padEnd(16)} median ${f(b.median)} ms  p95 ${f(b.p95)} ms  ratio ${b.ratioMedian.toFixed(2)}x  JS thread busy ${f(b.jsThreadBusyMedianMs)} ms${b.coldFirstRunMs !== null ? `  (cold ${b.coldFirstRunMs.toFixed(1)} ms)` : ''}`);
  }
  console.log(`  onnxruntime-node x4       median ${f(t.median)} ms  p95 ${f(t.p95)} ms`);
  console.log(`  from require(): ours median ${f(result.fromRequire.ours.median)} ms, onnxruntime-node ${f(result.fromRequire.theirs.median)} ms, ratio ${result.fromRequire.ratioMedian.toFixed(2)}x`);
  const show = (title, p) => {
    console.log(title);
    for (const [k, v] of Object.entries(p)) console.log(`    ${k.padEnd(52)} ${f(v)}`);
  };
  show('  breakdown (steps one after another, median ms):', parts);
  for (const b of before) show(`  breakdown of baseline ${b.label}:`, b.breakdownMedianMs);
  const report = process.argv.includes('--report');
  const json = arg('json', report ? path.join(root, 'docs', 'results', 'engine-start.json') : null);
  if (json) writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  if (report) {
    const benchJson = path.join(root, 'docs', 'results', 'bench.json');
    if (!existsSync(benchJson)) throw new Error('--report renders docs/BENCHMARKS.md from docs/results/bench.json, which is missing (npm run bench -- --report)');
    const { writeReport } = await import('./bench-report.mjs');
    writeFileSync(path.join(root, 'docs', 'BENCHMARKS.md'), writeReport(JSON.parse(readFileSync(benchJson, 'utf8')), result));
    console.log(`report written to docs/BENCHMARKS.md and ${path.relative(root, json)}`);
  }
  if (!requested) rmSync(cacheDir, { recursive: true, force: true });
  for (const bl of baselines) if (bl.cache !== 'off') rmSync(bl.cache, { recursive: true, force: true });
}
