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
// decisions off (0, the deadzone at 0.30) on both, and their mean, over the qps. A candidate may also set
// the inter quantiser's deadzone and the motion search's vector weight (a factor of the luma step; 0:
// its fixed 4): --candidates 0.05:0.26,0.05:0.3:0.2,... Prints the table and the candidate of
// the lowest mean BD-rate.
import { bdRate } from '../../bench/bdrate.mjs';
import { arg } from '../../bench/args.mjs';
import { curve, psnrY, setUp, W, H } from './tuning_sequences.mjs';

const { opts, aic, engine, inter, sequences, files } = await setUp('tune_rd');
const QPS = [26, 32, 38, 44, 50];
// A candidate is a lambda factor, or lambda:deadzone (the inter quantiser's deadzone, default 0.30).
const DEFAULT_DEADZONE = 0.3;
const CANDIDATES = (arg('candidates', null)?.split(',') ?? ['0', '0.03', '0.05', '0.07', '0.1', '0.15'])
  .map((c) => {
    const [l, d, m] = c.split(':').map(Number);
    return { rdLambda: l, interDeadzone: Number.isFinite(d) ? d : DEFAULT_DEADZONE, motionLambda: Number.isFinite(m) ? m : 0 };
  })
  .filter((c) => c.rdLambda >= 0);
const label = (c) => [c.rdLambda, ...(c.interDeadzone !== DEFAULT_DEADZONE || c.motionLambda ? [c.interDeadzone] : []), ...(c.motionLambda ? [c.motionLambda] : [])].join(':');
const isBase = (c) => c.rdLambda === 0 && c.interDeadzone === DEFAULT_DEADZONE && !c.motionLambda;
if (!CANDIDATES.some(isBase)) CANDIDATES.unshift({ rdLambda: 0, interDeadzone: DEFAULT_DEADZONE, motionLambda: 0 });

console.log(`${sequences.length} sequences of ${opts.frames} frames (${files.length} photos x ${sequences.length / files.length} kinds), qps ${QPS.join(', ')}`);
const measures = { psnrY, ssimDb: (a, b) => -10 * Math.log10(Math.max(1e-10, 1 - aic.imageQuality(a, b, W, H).ssim)) };
const on = (pts, k) => pts.map((p) => ({ rate: p.rate, quality: p[k] }));

const base = await curve(inter, sequences, QPS, { rdLambda: 0, interDeadzone: DEFAULT_DEADZONE, motionLambda: 0 }, measures);
const rows = [];
for (const c of CANDIDATES) {
  const t = performance.now();
  const pts = isBase(c) ? base : await curve(inter, sequences, QPS, c, measures);
  const bdY = bdRate(on(base, 'psnrY'), on(pts, 'psnrY'));
  const bdS = bdRate(on(base, 'ssimDb'), on(pts, 'ssimDb'));
  const mean = bdY === null || bdS === null ? null : (bdY + bdS) / 2;
  rows.push({ c, bdY, bdS, mean });
  const pct = (x) => (x === null ? 'n/a' : `${x.toFixed(2)} %`);
  console.log(`${label(c)}: BD-rate vs off PSNR-Y ${pct(bdY)}, SSIM ${pct(bdS)}, mean ${pct(mean)} (${((performance.now() - t) / 1000).toFixed(0)} s); ` + pts.map((p) => `qp ${p.qp} ${p.rate.toFixed(0)} B ${p.psnrY.toFixed(2)} dB ${p.ssimDb.toFixed(2)} dB`).join(' | '));
}
const best = rows.filter((r) => r.mean !== null).sort((a, b) => a.mean - b.mean)[0];
console.log(`best: ${label(best.c)} (PSNR-Y ${best.bdY.toFixed(2)} %, SSIM ${best.bdS.toFixed(2)} %)`);
await engine.close();
