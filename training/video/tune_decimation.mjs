#!/usr/bin/env node
// Chooses the predicted-frame encoder's macroblock decimation thresholds (native/core/video/
// inter_codec.h, kDefaultDecimateLuma / kDefaultDecimateChroma) on motion synthesised from the
// training photos only (training/video/motion_synthesis.mjs; never an evaluation set: the script
// refuses a --data path naming kodak, video, vctk or music). One command:
//
//   node training/video/tune_decimation.mjs --data ../shared/data/train-images --seed 1 --photos 20 --frames 8
//
// Needs the native addon (`npm run build:native`) and the TypeScript build (dist/).
//
// The sequences and curves: training/video/tuning_sequences.mjs. Per candidate [luma, chroma]
// threshold pair and qp: the predicted frames' bytes and their mean PSNR-Y (BT.601 luma of the
// decoded RGB against the source), pooled over the sequences; then the BD-rate of each
// candidate's curve against no decimation ([0, 0]) over the qps.
// Prints the table and the best pair (the lowest BD-rate).
import { bdRate } from '../../bench/bdrate.mjs';
import { curve as codeCurve, psnrY, setUp } from './tuning_sequences.mjs';

const { opts, engine, inter, sequences, files } = await setUp('tune_decimation');
const QPS = [26, 32, 38, 44, 50];
const CANDIDATES = [[0, 0], [2, 0], [3, 0], [0, 4], [0, 7], [3, 4], [3, 7], [4, 6], [6, 7], [0, 10], [3, 10], [3, 14]];

console.log(`${sequences.length} sequences of ${opts.frames} frames (${files.length} photos x ${sequences.length / files.length} kinds), qps ${QPS.join(', ')}`);

// The rate-distortion decisions off: the thresholds were chosen before them (tune_rd.mjs chooses its lambda with these thresholds).
const curve = async ([luma, chroma]) => (await codeCurve(inter, sequences, QPS, { decimation: [luma, chroma], rdLambda: 0 }, { quality: psnrY })).map((p) => ({ qp: p.qp, rate: p.rate, quality: p.quality }));

const base = await curve([0, 0]);
const rows = [];
for (const c of CANDIDATES) {
  const pts = c[0] === 0 && c[1] === 0 ? base : await curve(c);
  const bd = bdRate(base, pts);
  rows.push({ c, bd, pts });
  console.log(`[${c.join(', ')}]: BD-rate vs none ${bd === null ? 'n/a' : bd.toFixed(2) + ' %'}; ` + pts.map((p) => `qp ${p.qp} ${p.rate.toFixed(0)} B ${p.quality.toFixed(2)} dB`).join(' | '));
}
const best = rows.filter((r) => r.bd !== null).sort((a, b) => a.bd - b.bd)[0];
console.log(`best: [${best.c.join(', ')}] (${best.bd.toFixed(2)} %)`);
await engine.close();
