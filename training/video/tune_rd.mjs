#!/usr/bin/env node
// Chooses the predicted-frame encoder's rate-distortion lambda factor (native/core/video/
// inter_codec.h, kDefaultRdLambda: the decisions PassEncoder::decideByCost and dropCostlyBlocks
// make) on motion synthesised from the training photos only (never an evaluation set: the script
// refuses a --data path naming kodak, video, vctk or music). One command:
//
//   node training/video/tune_rd.mjs --data ../shared/data/train-images --seed 1 --photos 20 --frames 8
//
// Needs the native addon (`npm run build:native`) and the TypeScript build (dist/).
//
// The sequences and curves: training/video/tuning_sequences.mjs (the decimation thresholds at their
// defaults). Per candidate lambda factor and qp: the predicted frames' mean bytes, PSNR-Y (BT.601
// luma of the decoded RGB against the source) and SSIM (the library's imageQuality(), the session's
// score, in dB: -10 log10(1 - SSIM)); then the BD-rate of each candidate's curve against the
// decisions off (0) on both, and their mean, over the qps. Prints the table and the candidate of
// the lowest mean BD-rate.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bdRate } from '../../bench/bdrate.mjs';
import { curve, loadSequences, psnrY, refuseEvaluationData, W, H } from './tuning_sequences.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const opts = { data: arg('--data', '../shared/data/train-images'), seed: Number(arg('--seed', '1')), photos: Number(arg('--photos', '20')), frames: Number(arg('--frames', '8')) };
refuseEvaluationData('tune_rd', opts.data);
const QPS = [26, 32, 38, 44, 50];
const CANDIDATES = (arg('--candidates', null)?.split(',').map(Number) ?? [0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.45, 0.7]).filter((c) => c >= 0);
if (!CANDIDATES.includes(0)) CANDIDATES.unshift(0);

const aic = await import(path.join(root, 'dist', 'index.js'));
const { loadInterCodec } = await import(path.join(root, 'dist', 'inter-codec.js'));
const engine = await aic.createEngine({ executionProvider: 'cpu', models: { audio: false } });
const image = engine.imageCodec();
const inter = await loadInterCodec(path.join(root, 'models', 'aic-inter-v1', 'manifest.json'), image);

const { sequences, files } = await loadSequences(image, opts);
console.log(`${sequences.length} sequences of ${opts.frames} frames (${files.length} photos x ${sequences.length / files.length} kinds), qps ${QPS.join(', ')}`);
const measures = { psnrY, ssimDb: (a, b) => -10 * Math.log10(Math.max(1e-10, 1 - aic.imageQuality(a, b, W, H).ssim)) };
const on = (pts, k) => pts.map((p) => ({ rate: p.rate, quality: p[k] }));

const base = await curve(inter, sequences, QPS, { rdLambda: 0 }, measures);
const rows = [];
for (const c of CANDIDATES) {
  const t = performance.now();
  const pts = c === 0 ? base : await curve(inter, sequences, QPS, { rdLambda: c }, measures);
  const bdY = bdRate(on(base, 'psnrY'), on(pts, 'psnrY'));
  const bdS = bdRate(on(base, 'ssimDb'), on(pts, 'ssimDb'));
  const mean = bdY === null || bdS === null ? null : (bdY + bdS) / 2;
  rows.push({ c, bdY, bdS, mean });
  const pct = (x) => (x === null ? 'n/a' : `${x.toFixed(2)} %`);
  console.log(`${c}: BD-rate vs off PSNR-Y ${pct(bdY)}, SSIM ${pct(bdS)}, mean ${pct(mean)} (${((performance.now() - t) / 1000).toFixed(0)} s); ` + pts.map((p) => `qp ${p.qp} ${p.rate.toFixed(0)} B ${p.psnrY.toFixed(2)} dB ${p.ssimDb.toFixed(2)} dB`).join(' | '));
}
const best = rows.filter((r) => r.mean !== null).sort((a, b) => a.mean - b.mean)[0];
console.log(`best: ${best.c} (PSNR-Y ${best.bdY.toFixed(2)} %, SSIM ${best.bdS.toFixed(2)} %)`);
await engine.close();
