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
// For each photo (the first --photos of the training photos; the ten held out by
// residual_transform.mjs are skipped) and each kind of motion, a sequence of --frames frames: the
// first coded by the image codec at level 4 as the keyframe, the rest as predicted frames at a fixed
// qp (one pass, unscored, deblocked, as a session sends them but without its rate control), decoded
// by a receiving stream. Per candidate [luma, chroma] threshold pair and qp: the predicted frames'
// bytes and their mean PSNR-Y (BT.601 luma of the decoded RGB against the source), pooled over the
// sequences; then the BD-rate of each candidate's curve against no decimation ([0, 0]) over the qps.
// Prints the table and the best pair (the lowest BD-rate).
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { bdRate } from '../../bench/bdrate.mjs';
import { H, KINDS, makeRng, sequence, W } from './motion_synthesis.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const opts = { data: arg('--data', '../shared/data/train-images'), seed: Number(arg('--seed', '1')), photos: Number(arg('--photos', '20')), frames: Number(arg('--frames', '8')) };
for (const p of [opts.data, existsSync(opts.data) ? realpathSync(opts.data) : opts.data]) {
  const bad = ['kodak', 'video', 'vctk', 'music'].find((w) => p.toLowerCase().includes(w));
  if (bad) {
    console.error(`tune_decimation: --data ${opts.data} names an evaluation set ("${bad}"); tune on ../shared/data/train-images only`);
    process.exit(2);
  }
}
const HELD_OUT = new Set(['005.png', '010.png', '015.png', '020.png', '025.png', '030.png', '035.png', '040.png', '045.png', '049.png']);
const QPS = [26, 32, 38, 44, 50];
const CANDIDATES = [[0, 0], [2, 0], [3, 0], [0, 4], [0, 7], [3, 4], [3, 7], [4, 6], [6, 7], [0, 10], [3, 10], [3, 14]];
const KEYFRAME_LEVEL = 4;

const aic = await import(path.join(root, 'dist', 'index.js'));
const { loadInterCodec } = await import(path.join(root, 'dist', 'inter-codec.js'));
const engine = await aic.createEngine({ executionProvider: 'cpu', models: { audio: false } });
const image = engine.imageCodec();
const inter = await loadInterCodec(path.join(root, 'models', 'aic-inter-v1', 'manifest.json'), image);

const interleave = (planes) => {
  const out = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    out[3 * i] = planes[0][i];
    out[3 * i + 1] = planes[1][i];
    out[3 * i + 2] = planes[2][i];
  }
  return out;
};
const psnrY = (a, b) => {
  let se = 0;
  for (let i = 0; i < a.length; i += 3) {
    const d = 0.299 * (a[i] - b[i]) + 0.587 * (a[i + 1] - b[i + 1]) + 0.114 * (a[i + 2] - b[i + 2]);
    se += d * d;
  }
  return Math.min(100, 10 * Math.log10((255 * 255) / (se / (a.length / 3))));
};

// The sequences, rendered once.
const files = readdirSync(opts.data).filter((f) => f.toLowerCase().endsWith('.png') && !HELD_OUT.has(f)).sort().slice(0, opts.photos);
const sequences = [];
for (const [fi, file] of files.entries()) {
  const meta = await sharp(path.join(opts.data, file)).metadata();
  for (let kind = 0; kind < KINDS.length; kind++) {
    const rng = makeRng(opts.seed, fi + 1, kind + 1, 0xdec);
    const fmin = Math.max(760 / meta.width, 460 / meta.height);
    const f = rng.range(fmin, Math.max(fmin, Math.min(1, 1250 / meta.width)));
    const iw = Math.round(meta.width * f);
    const ih = Math.round(meta.height * f);
    const img = await sharp(path.join(opts.data, file)).removeAlpha().toColourspace('srgb').resize(iw, ih, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
    const frames = sequence(KINDS[kind], img, iw, ih, opts.frames, rng).frames.map(interleave);
    const key = (await image.encode({ format: 'rgb24', width: W, height: H, data: frames[0] }, { level: KEYFRAME_LEVEL, keyframe: true, frameType: 'video' })).payload;
    sequences.push({ name: `${file}/${KINDS[kind]}`, frames, key });
  }
}
console.log(`${sequences.length} sequences of ${opts.frames} frames (${files.length} photos x ${KINDS.length} kinds), qps ${QPS.join(', ')}`);

async function curve([luma, chroma]) {
  const points = [];
  for (const qp of QPS) {
    let bytes = 0;
    let psnr = 0;
    let n = 0;
    for (const s of sequences) {
      const tx = inter.createStream();
      const rx = inter.createStream();
      tx.adoptKeyframe(s.key);
      rx.adoptKeyframe(s.key);
      for (let k = 1; k < s.frames.length; k++) {
        const r = await tx.encode({ data: s.frames[k], width: W, height: H, format: 'rgb24' }, { qp, sequence: k, score: false, maxPasses: 1, minQp: qp, maxQp: qp, compact: true, decimation: [luma, chroma] });
        tx.commit();
        const d = await rx.decode(r.payload);
        bytes += r.payload.length;
        psnr += psnrY(s.frames[k], d.data);
        n++;
      }
    }
    points.push({ qp, rate: bytes / n, quality: psnr / n });
  }
  return points;
}

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
