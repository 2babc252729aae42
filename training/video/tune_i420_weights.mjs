#!/usr/bin/env node
// Checks the predicted-frame encoder's chroma error weights for I420 streams (native/core/video/
// inter_codec.cc, kI420ChannelErrorWeight: the rate-distortion decisions weigh Co and Cg errors
// as the I420 score does, Y, U, V 6:1:1, instead of as R, G and B do) on motion synthesised from
// the training photos only (training/video/tuning_sequences.mjs; evaluation sets are refused).
// One command:
//
//   node training/video/tune_i420_weights.mjs --data ../shared/data/train-images --seed 1 --photos 20 --frames 8
//
// Each sequence's frames are converted to I420 (BT.601 limited range, 2x2 chroma means), coded as
// an I420 stream's predicted frames at fixed qps, decoded as I420 and scored on the I420 PSNR
// (the MSE of Y, U, V weighted 6:1:1, the library's imageQuality(..., 'i420')). Curves: the RGB
// weights (a chroma factor of 4.3 on the I420 ones), the I420 weights, and them x 0.5 and x 2;
// BD-rates against the RGB weights.
import { bdRate } from '../../bench/bdrate.mjs';
import { H, setUp, W } from './tuning_sequences.mjs';

const { opts, aic, engine, inter, sequences, files } = await setUp('tune_i420_weights');
const QPS = [26, 32, 38, 44, 50];

/** BT.601 limited-range I420 of an interleaved RGB frame, chroma the mean of each 2x2 block. */
function toI420(rgb) {
  const out = Buffer.alloc((W * H * 3) / 2);
  const px = (x, y, c) => rgb[(y * W + x) * 3 + c];
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = Math.round(16 + 0.256788 * px(x, y, 0) + 0.504129 * px(x, y, 1) + 0.097906 * px(x, y, 2));
  for (let y = 0; y < H / 2; y++)
    for (let x = 0; x < W / 2; x++) {
      const m = (c) => (px(2 * x, 2 * y, c) + px(2 * x + 1, 2 * y, c) + px(2 * x, 2 * y + 1, c) + px(2 * x + 1, 2 * y + 1, c)) / 4;
      out[W * H + y * (W / 2) + x] = Math.round(128 - 0.148223 * m(0) - 0.290993 * m(1) + 0.439216 * m(2));
      out[(W * H * 5) / 4 + y * (W / 2) + x] = Math.round(128 + 0.439216 * m(0) - 0.367788 * m(1) - 0.071427 * m(2));
    }
  return out;
}

const streams = sequences.map((s) => ({ key: s.key, frames: s.frames.map(toI420) }));
console.log(`${sequences.length} sequences of ${opts.frames} frames (${files.length} photos x ${sequences.length / files.length} kinds), qps ${QPS.join(', ')}`);

async function curve(options) {
  const points = [];
  for (const qp of QPS) {
    let bytes = 0;
    let quality = 0;
    let n = 0;
    for (const s of streams) {
      const tx = inter.createStream();
      const rx = inter.createStream();
      tx.adoptKeyframe(s.key);
      rx.adoptKeyframe(s.key);
      for (let k = 1; k < s.frames.length; k++) {
        const r = await tx.encode({ data: s.frames[k], width: W, height: H, format: 'i420' }, { qp, sequence: k, score: false, maxPasses: 1, minQp: qp, maxQp: qp, compact: true, ...options });
        tx.commit();
        const d = await rx.decode(r.payload);
        bytes += r.payload.length;
        quality += aic.imageQuality(s.frames[k], d.data, W, H, 'i420').psnr;
        n++;
      }
    }
    points.push({ qp, rate: bytes / n, quality: quality / n });
  }
  return points;
}
const show = (pts) => pts.map((p) => `qp ${p.qp} ${p.rate.toFixed(0)} B ${p.quality.toFixed(2)} dB`).join(' | ');

const rgb = await curve({ chromaErrorScale: 4.3 });
console.log(`RGB weights: ${show(rgb)}`);
for (const scale of [1, 0.5, 2]) {
  const pts = await curve({ chromaErrorScale: scale });
  console.log(`I420 weights x ${scale}: BD-rate vs RGB weights ${bdRate(rgb, pts)?.toFixed(2)} %; ${show(pts)}`);
}
await engine.close();
