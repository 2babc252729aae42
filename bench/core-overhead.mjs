// What the native core adds on top of ONNX Runtime itself, per call, measured in one process
// against onnxruntime-node (the peer library, on the same libonnxruntime) running the same graph
// with the same thread settings. The graph is the tiny fixture encoder, so the numbers are
// dominated by per-call overhead (tensor wrapping, copies, thread hops), which is the point.
//
//   npm run bench:core [-- --iterations 300 --json out.json]
//
// Reports median and p99 per call and the ratio to onnxruntime-node's median. Absolute times on
// a shared 2-core machine are not meant to be quoted; the ratios are.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, timeCalls } from './stats.mjs';
import { arg } from './args.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const iterations = Number(arg('iterations', 300));
const jsonOut = arg('json', undefined);

const { createEngine, tensor } = await import(path.join(root, 'dist', 'index.js'));
const threads = 2;
// Our engine first: it creates the process's ONNX Runtime environment with the global pool.
const engine = await createEngine({ executionProvider: 'cpu', intraOpThreads: threads });
const encoderPath = path.join(root, 'test', 'fixtures', 'tiny_encoder.onnx');
const model = await engine.loadModel({ name: 'tiny', encoder: encoderPath, decoder: path.join(root, 'test', 'fixtures', 'tiny_decoder.onnx') });

const ort = await import('onnxruntime-node');
const session = await ort.InferenceSession.create(encoderPath, {
  executionProviders: ['cpu'],
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' } } },
});

const results = [];
console.log(`core overhead vs onnxruntime-node ${ort.env.versions?.common ?? ''}, ${iterations} calls each, ms per call`);
console.log('size        variant                     median      p99   ratio(median)');
for (const [w, h] of [
  [640, 360],
  [1280, 720],
]) {
  const data = new Float32Array(3 * w * h);
  for (let i = 0; i < data.length; i++) data[i] = (i % 251) / 251;
  const out = new Float32Array(4 * (w / 2) * (h / 2));
  const ortInput = new ort.Tensor('float32', data, [1, 3, h, w]);
  const ours = { image: tensor(data, [1, 3, h, w]) };
  const outputs = { latent: tensor(out, [1, 4, h / 2, w / 2]) };

  const variants = [
    ['onnxruntime-node run()', () => session.run({ image: ortInput })],
    ['aic encode() async', () => model.encode(ours)],
    ['aic encode() + out buffer', () => model.encode(ours, { outputs })],
    ['aic encodeSync()', () => model.encodeSync(ours)],
    ['aic encodeSync() + out buf', () => model.encodeSync(ours, { outputs })],
  ];
  let baseline;
  for (const [name, fn] of variants) {
    const s = await timeCalls(fn, { iterations });
    baseline ??= s.median;
    const ratio = s.median / baseline;
    results.push({ size: `${w}x${h}`, variant: name, ...s, ratioToOrtNode: ratio });
    console.log(`${`${w}x${h}`.padEnd(11)} ${name.padEnd(26)} ${fmt(s.median)} ${fmt(s.p99)}   ${ratio.toFixed(2)}`);
  }
}
console.log(`copies in aic: ${JSON.stringify(model.stats())}`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ iterations, threads, ortVersion: engine.info().ortVersion, results }, null, 2));
await session.release();
await engine.close();
