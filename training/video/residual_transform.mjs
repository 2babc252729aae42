#!/usr/bin/env node
// Learns the residual transform of models/aic-inter-v1: per YCoCg channel, a separable 8x8
// Karhunen-Loeve transform (coefficients = V . block . H^T) of motion-compensated P-frame
// residuals, and writes models/aic-inter-v1/manifest.json (with the sha256 of the keyframe
// reference file that training/video/export_keyframe_inverse.py wrote there before). One command:
//
//   node training/video/residual_transform.mjs --data ../shared/data/train-images \
//       --out models/aic-inter-v1 --seed 1 --frames 5
//
// Needs the native addon (`npm run build:native`) and the TypeScript build (dist/native/load.js).
//
// 1. Motion, synthesised from the training photos only (never an evaluation set: the script refuses
//    a --data path naming kodak, video, vctk or music). For each photo, four short sequences at
//    640x360, each with a seeded random generator of its own (seed, photo, kind), rendered by
//    bilinear resampling from the photo resized (sharp, lanczos) to a random working size:
//      pan        constant sub-pixel velocity up to 6 px/frame each way, scale 0.95..1.1
//      zoom       1-3 % per frame in or out about a point, with a slight drift
//      crop       a crop window moving by whole pixels, its velocity changing every frame
//      occlusion  a textured rectangle (64-192 x 48-144 px, cut from elsewhere in the photo)
//                 crossing the frame at 2-8 px/frame over a slowly drifting background
//    Every sequence has Gaussian sensor noise (sigma 1-4, fresh each frame) and half of them a
//    lighting change (gain times 0.97..1.03 per frame).
// 2. Real motion compensation, as the codec does it: the addon's motion search
//    (native/core/video/motion_search.h; 16x16 blocks, range 32, quarter-pixel refinement) on luma
//    (R+2G+B+2)>>2 of the previous and current frames, then each 16x16 block of R, G and B
//    predicted from the previous frame with its vector by the bilinear quarter-pixel interpolation
//    of motion_search.cc interpolate() (weights (4-fx)(4-fy) ..., +8 >> 4, edge-replicated).
//    Every pair checks that this interpolation gives, on luma, exactly the SAD the addon reports
//    for every block (the run fails otherwise).
// 3. Residual = current - prediction, in YCoCg (Y = (R+2G+B)/4, Co = (R-B)/2, Cg = (-R+2G-B)/4,
//    real-valued), cut into 8x8 blocks per channel. A block is kept when the sum of its absolute
//    values is at least --keep (default 64, a mean of 1 level): blocks below are skipped by the
//    codec, so they are not what the transform codes. No mean is removed (the report says how
//    close to zero-mean the kept blocks are).
// 4. Per channel, the 64x64 second-moment matrix of the kept blocks of the 39 training photos gives
//    the column (vertical) and row (horizontal) covariances; V and H are their eigenvectors
//    (Jacobi), rows sorted by eigenvalue descending, each row's sign set so that its sum is
//    positive (or, where |sum| < 0.5, i.e. for every row but the first here, its first entry above
//    1e-6 in magnitude; see SIGN_SUM_TOLERANCE).
// 5. On the 10 held-out photos' residuals (same synthesis), the coding gain
//    10 log10(arithmetic / geometric mean of the 64 coefficient variances) of the learned transform
//    and of the orthonormal DCT-II, per channel, plus the non-separable 64-point KLT of the
//    held-out blocks themselves as an upper bound.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { H, KINDS, makeRng, sequence, W } from './motion_synthesis.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sharp = require('sharp');

// ---------------------------------------------------------------- options
function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
}
const opts = {
  data: arg('--data', '../shared/data/train-images'),
  out: arg('--out', 'models/aic-inter-v1'),
  seed: Number(arg('--seed', '1')),
  frames: Number(arg('--frames', '5')),
  keep: Number(arg('--keep', '64')),
};
if (process.argv.includes('--help')) {
  console.log('node training/video/residual_transform.mjs [--data DIR] [--out DIR] [--seed N] [--frames N] [--keep SUM_ABS]');
  process.exit(0);
}
const EVALUATION = ['kodak', 'video', 'vctk', 'music'];
for (const p of [opts.data, existsSync(opts.data) ? realpathSync(opts.data) : opts.data]) {
  const bad = EVALUATION.find((w) => p.toLowerCase().includes(w));
  if (bad) {
    console.error(`residual_transform: --data ${opts.data} names an evaluation set ("${bad}"); train on ../shared/data/train-images only`);
    process.exit(2);
  }
}
if (!Number.isInteger(opts.seed) || !Number.isInteger(opts.frames) || opts.frames < 2 || !(opts.keep >= 0)) {
  console.error('residual_transform: --seed must be an integer, --frames an integer >= 2, --keep a number >= 0');
  process.exit(2);
}
// The 10 held-out photos (fixed): every fifth, and the last.
const HELD_OUT = ['005.png', '010.png', '015.png', '020.png', '025.png', '030.png', '035.png', '040.png', '045.png', '049.png'];
const N = 8;
const SEARCH = { blockSize: 16, range: 32, subpel: true };
const CHANNELS = ['Y', 'Co', 'Cg'];

const { native } = require(path.join(root, 'dist', 'native', 'load.js'));
const addon = native();

// ---------------------------------------------------------------- motion compensation
function luma(planes) {
  const [r, g, b] = planes;
  const y = new Uint8Array(W * H);
  for (let i = 0; i < y.length; i++) y[i] = (r[i] + 2 * g[i] + b[i] + 2) >> 2;
  return y;
}

/** motion_search.cc interpolate(): the block (x, y, w, h) of ref moved by (dx, dy) quarter pixels, edge-replicated. */
function predictBlock(ref, x, y, w, h, dx, dy, out) {
  const ix = x + (dx >> 2);
  const iy = y + (dy >> 2);
  const fx = dx & 3;
  const fy = dy & 3;
  const w00 = (4 - fx) * (4 - fy);
  const w01 = fx * (4 - fy);
  const w10 = (4 - fx) * fy;
  const w11 = fx * fy;
  const cx = (c) => (c < 0 ? 0 : c >= W ? W - 1 : c);
  const cy = (c) => (c < 0 ? 0 : c >= H ? H - 1 : c);
  for (let r = 0; r < h; r++) {
    const ra = cy(iy + r) * W;
    const rb = cy(iy + r + 1) * W;
    for (let c = 0; c < w; c++) {
      const i = (y + r) * W + x + c;
      if (fx === 0 && fy === 0) {
        out[i] = ref[ra + cx(ix + c)];
      } else {
        const a0 = cx(ix + c);
        const a1 = cx(ix + c + 1);
        out[i] = (w00 * ref[ra + a0] + w01 * ref[ra + a1] + w10 * ref[rb + a0] + w11 * ref[rb + a1] + 8) >> 4;
      }
    }
  }
}

function compensate(prev, field) {
  const pred = [new Uint8Array(W * H), new Uint8Array(W * H), new Uint8Array(W * H)];
  const bs = field.blockSize;
  for (let by = 0; by < field.blocksY; by++) {
    for (let bx = 0; bx < field.blocksX; bx++) {
      const i = by * field.blocksX + bx;
      const dx = field.vectors[2 * i];
      const dy = field.vectors[2 * i + 1];
      const x = bx * bs;
      const y = by * bs;
      const w = Math.min(bs, W - x);
      const h = Math.min(bs, H - y);
      for (let k = 0; k < 3; k++) predictBlock(prev[k], x, y, w, h, dx, dy, pred[k]);
    }
  }
  return pred;
}

/** Blocks whose luma SAD under this file's interpolation differs from the one the addon reports. */
function checkSad(refLuma, curLuma, field) {
  const p = new Uint8Array(W * H);
  const bs = field.blockSize;
  let bad = 0;
  for (let by = 0; by < field.blocksY; by++) {
    for (let bx = 0; bx < field.blocksX; bx++) {
      const i = by * field.blocksX + bx;
      const x = bx * bs;
      const y = by * bs;
      const w = Math.min(bs, W - x);
      const h = Math.min(bs, H - y);
      predictBlock(refLuma, x, y, w, h, field.vectors[2 * i], field.vectors[2 * i + 1], p);
      let sad = 0;
      for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) sad += Math.abs(curLuma[(y + r) * W + x + c] - p[(y + r) * W + x + c]);
      if (sad !== field.sad[i]) bad++;
    }
  }
  return bad;
}

// ---------------------------------------------------------------- statistics
function newStats() {
  return CHANNELS.map(() => ({ m: new Float64Array(64 * 64), count: 0, sum: 0, sumSq: 0, seen: 0 }));
}

/** Accumulates the kept 8x8 residual blocks of one frame pair into stats (per channel). */
function accumulate(cur, pred, stats, keep) {
  const res = [new Float64Array(W * H), new Float64Array(W * H), new Float64Array(W * H)];
  for (let i = 0; i < W * H; i++) {
    const r = cur[0][i] - pred[0][i];
    const g = cur[1][i] - pred[1][i];
    const b = cur[2][i] - pred[2][i];
    res[0][i] = (r + 2 * g + b) / 4;
    res[1][i] = (r - b) / 2;
    res[2][i] = (-r + 2 * g - b) / 4;
  }
  const blk = new Float64Array(64);
  for (let c = 0; c < 3; c++) {
    const st = stats[c];
    const plane = res[c];
    const m = st.m;
    for (let by = 0; by < H / N; by++) {
      for (let bx = 0; bx < W / N; bx++) {
        let abs = 0;
        for (let y = 0; y < N; y++) {
          for (let x = 0; x < N; x++) {
            const v = plane[(by * N + y) * W + bx * N + x];
            blk[y * N + x] = v;
            abs += Math.abs(v);
          }
        }
        st.seen++;
        if (abs < keep) continue;
        st.count++;
        for (let p = 0; p < 64; p++) {
          const bp = blk[p];
          st.sum += bp;
          st.sumSq += bp * bp;
          if (bp === 0) continue;
          const row = p * 64;
          for (let q = p; q < 64; q++) m[row + q] += bp * blk[q];
        }
      }
    }
  }
}

function fullMoment(st) {
  const c = new Float64Array(64 * 64);
  for (let p = 0; p < 64; p++)
    for (let q = p; q < 64; q++) {
      const v = st.m[p * 64 + q] / st.count;
      c[p * 64 + q] = v;
      c[q * 64 + p] = v;
    }
  return c;
}

/** Column (vertical) and row (horizontal) 8x8 covariances from the 64x64 one (index y*8+x). */
function separableMoments(c64) {
  const cv = new Float64Array(64);
  const ch = new Float64Array(64);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < N; m++) {
      let sv = 0;
      let sh = 0;
      for (let t = 0; t < N; t++) {
        sv += c64[(n * N + t) * 64 + (m * N + t)];
        sh += c64[(t * N + n) * 64 + (t * N + m)];
      }
      cv[n * N + m] = sv / N;
      ch[n * N + m] = sh / N;
    }
  return { cv, ch };
}

// ---------------------------------------------------------------- linear algebra
/** Cyclic Jacobi on a symmetric n x n matrix (row-major): { values, vectors } with vectors[k] = eigenvector k. */
function jacobi(a0, n) {
  const a = Float64Array.from(a0);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += a[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += a[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        // A <- J^T A J with J = identity except J[p][p] = J[q][q] = c, J[p][q] = s, J[q][p] = -s
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = [];
  const vectors = [];
  for (let k = 0; k < n; k++) {
    values.push(a[k * n + k]);
    const col = [];
    for (let i = 0; i < n; i++) col.push(v[i * n + k]);
    vectors.push(col);
  }
  // verify: |A v - lambda v| small for every pair
  let worst = 0;
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < n; j++) s += a0[i * n + j] * vectors[k][j];
      worst = Math.max(worst, Math.abs(s - values[k] * vectors[k][i]));
    }
  }
  const scale = Math.max(...values.map(Math.abs), 1e-300);
  if (worst > 1e-9 * scale) throw new Error(`jacobi did not converge (residual ${worst} against ${scale})`);
  return { values, vectors };
}

// A row's sum decides its sign only where it is far from zero: every DCT row but the first sums to
// exactly zero, and the learned rows k >= 1 sum to small values (0.00 to 0.29 in the committed run)
// whose sign is noise, not a convention. There the first entry decides (|first| >= 0.14 in that
// run), which also gives every row the sign of the matching DCT row (whose first entries are all
// positive).
const SIGN_SUM_TOLERANCE = 0.5;

/** Rows sorted by eigenvalue descending, signs fixed: an 8x8 orthonormal matrix [k][n] and its eigenvalues. */
function kltRows(cov) {
  const { values, vectors } = jacobi(cov, N);
  const order = values.map((v, i) => i).sort((i, j) => values[j] - values[i]);
  const rows = order.map((i) => {
    const r = vectors[i].slice();
    const sum = r.reduce((a, b) => a + b, 0);
    let flip;
    if (Math.abs(sum) >= SIGN_SUM_TOLERANCE) flip = sum < 0;
    else flip = r.find((x) => Math.abs(x) > 1e-6) < 0;
    return flip ? r.map((x) => -x) : r;
  });
  return { rows, values: order.map((i) => values[i]) };
}

function dctRows() {
  const rows = [];
  for (let k = 0; k < N; k++) {
    const r = [];
    for (let n = 0; n < N; n++) r.push(Math.sqrt((k === 0 ? 1 : 2) / N) * Math.cos((Math.PI * (2 * n + 1) * k) / (2 * N)));
    rows.push(r);
  }
  return rows;
}

/** Variances of the 64 coefficients of V . B . H^T under the 64x64 second moment c64: [kv*8 + kh]. */
function coefficientVariances(V, Hm, c64) {
  const out = new Float64Array(64);
  const t = new Float64Array(64);
  for (let kv = 0; kv < N; kv++)
    for (let kh = 0; kh < N; kh++) {
      for (let y = 0; y < N; y++) for (let x = 0; x < N; x++) t[y * N + x] = V[kv][y] * Hm[kh][x];
      let s = 0;
      for (let p = 0; p < 64; p++) {
        let r = 0;
        for (let q = 0; q < 64; q++) r += c64[p * 64 + q] * t[q];
        s += t[p] * r;
      }
      out[kv * N + kh] = s;
    }
  return out;
}

function codingGainDb(vars) {
  const v = Array.from(vars);
  const am = v.reduce((a, b) => a + b, 0) / v.length;
  const gm = Math.exp(v.reduce((a, b) => a + Math.log(Math.max(b, 1e-300)), 0) / v.length);
  return 10 * Math.log10(am / gm);
}

function orthonormality(intRows, shift) {
  const one = 2 ** (2 * shift);
  let worst = 0;
  let worstNorm = 0;
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < N; k++) s += intRows[i][k] * intRows[j][k];
      const e = Math.abs(s / one - (i === j ? 1 : 0));
      worst = Math.max(worst, e);
      if (i === j) worstNorm = Math.max(worstNorm, e);
    }
  return { maxAbsMMtMinusI: worst, maxRowNormSquaredError: worstNorm };
}

// ---------------------------------------------------------------- output
/** JSON with 2-space indentation, arrays of numbers on one line. */
function pretty(value, indent = '') {
  if (Array.isArray(value)) {
    if (value.every((x) => typeof x === 'number')) return `[${value.join(', ')}]`;
    const inner = indent + '  ';
    return `[\n${value.map((x) => inner + pretty(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (value && typeof value === 'object') {
    const inner = indent + '  ';
    const entries = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`);
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}
const sig = (x, d = 7) => Number(x.toPrecision(d));

// ---------------------------------------------------------------- main
async function main() {
  const t0 = Date.now();
  const files = readdirSync(opts.data).filter((f) => f.toLowerCase().endsWith('.png')).sort();
  if (files.length === 0) throw new Error(`no PNG images in ${opts.data}`);
  const missing = HELD_OUT.filter((f) => !files.includes(f));
  if (missing.length) throw new Error(`held-out images missing from ${opts.data}: ${missing.join(', ')}`);
  const keyframeFile = path.join(opts.out, 'keyframe-inverse.bin');
  if (!existsSync(keyframeFile)) throw new Error(`${keyframeFile} not found: run training/video/export_keyframe_inverse.py first (training/README.md)`);
  const train = newStats();
  const held = newStats();
  let pairs = 0;
  let heldPairs = 0;
  let searchMs = 0;
  let sadMismatches = 0;
  const vecHist = { zero: 0, fullPel: 0, subPel: 0 };
  for (let fi = 0; fi < files.length; fi++) {
    const file = files[fi];
    const isHeld = HELD_OUT.includes(file);
    const meta = await sharp(path.join(opts.data, file)).metadata();
    const iw0 = meta.width;
    const ih0 = meta.height;
    for (let kind = 0; kind < KINDS.length; kind++) {
      const rng = makeRng(opts.seed, fi + 1, kind + 1);
      // working size: the 640x360 frame covers a random part of the photo, never upscaled beyond
      // what the frame needs (about 460 px of height for zooms and drift)
      const fmin = Math.max(760 / iw0, 460 / ih0);
      const fmax = Math.max(fmin, Math.min(1, 1250 / iw0));
      const f = rng.range(fmin, fmax);
      const iw = Math.round(iw0 * f);
      const ih = Math.round(ih0 * f);
      const img = await sharp(path.join(opts.data, file)).removeAlpha().toColourspace('srgb').resize(iw, ih, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
      if (img.length !== iw * ih * 3) throw new Error(`${file}: unexpected decoded size`);
      const seq = sequence(KINDS[kind], img, iw, ih, opts.frames, rng);
      const lumas = seq.frames.map(luma);
      for (let k = 1; k < seq.frames.length; k++) {
        const ts = process.hrtime.bigint();
        const field = addon.motionSearch(lumas[k - 1], lumas[k], W, H, SEARCH);
        searchMs += Number(process.hrtime.bigint() - ts) / 1e6;
        for (let i = 0; i < field.vectors.length; i += 2) {
          const dx = field.vectors[i];
          const dy = field.vectors[i + 1];
          if (dx === 0 && dy === 0) vecHist.zero++;
          else if ((dx & 3) === 0 && (dy & 3) === 0) vecHist.fullPel++;
          else vecHist.subPel++;
        }
        const pred = compensate(seq.frames[k - 1], field);
        sadMismatches += checkSad(lumas[k - 1], lumas[k], field);
        accumulate(seq.frames[k], pred, isHeld ? held : train, opts.keep);
        if (isHeld) heldPairs++;
        else pairs++;
      }
    }
    process.stderr.write(`\r${fi + 1}/${files.length} photos, ${pairs + heldPairs} pairs, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  process.stderr.write('\n');
  if (sadMismatches) throw new Error(`${sadMismatches} blocks: the JS interpolation's SAD differs from the addon's (motion_search.cc interpolate())`);

  const DCT = dctRows();
  const result = { vertical: [], horizontal: [], verticalFloat: [], horizontalFloat: [], variances: [] };
  const gains = { learned: [], dct: [], fullKlt: [] };
  const eigen = { vertical: [], horizontal: [] };
  const ortho = { vertical: [], horizontal: [], maxRowNormSquaredError: [] };
  const stats = { keptFraction: { train: [], heldOut: [] }, meanOverRms: [], dcEnergyFraction: [] };
  const shift = 12;
  for (let c = 0; c < 3; c++) {
    const { cv, ch } = separableMoments(fullMoment(train[c]));
    const V = kltRows(cv);
    const Hk = kltRows(ch);
    const heldC = fullMoment(held[c]);
    const varsLearned = coefficientVariances(V.rows, Hk.rows, heldC);
    const varsDct = coefficientVariances(DCT, DCT, heldC);
    const full = jacobi(heldC, 64).values.map((x) => Math.max(x, 1e-12));
    gains.learned.push(sig(codingGainDb(varsLearned), 5));
    gains.dct.push(sig(codingGainDb(varsDct), 5));
    gains.fullKlt.push(sig(codingGainDb(full), 5));
    const Vi = V.rows.map((r) => r.map((x) => Math.round(x * 2 ** shift)));
    const Hi = Hk.rows.map((r) => r.map((x) => Math.round(x * 2 ** shift)));
    result.vertical.push(Vi.flat());
    result.horizontal.push(Hi.flat());
    result.verticalFloat.push(V.rows.flat().map((x) => sig(x, 12)));
    result.horizontalFloat.push(Hk.rows.flat().map((x) => sig(x, 12)));
    result.variances.push(Array.from(varsLearned, (x) => sig(x, 6)));
    eigen.vertical.push(V.values.map((x) => sig(x, 6)));
    eigen.horizontal.push(Hk.values.map((x) => sig(x, 6)));
    const ov = orthonormality(Vi, shift);
    const oh = orthonormality(Hi, shift);
    ortho.vertical.push(sig(ov.maxAbsMMtMinusI, 4));
    ortho.horizontal.push(sig(oh.maxAbsMMtMinusI, 4));
    ortho.maxRowNormSquaredError.push(sig(Math.max(ov.maxRowNormSquaredError, oh.maxRowNormSquaredError), 4));
    stats.keptFraction.train.push(sig(train[c].count / train[c].seen, 4));
    stats.keptFraction.heldOut.push(sig(held[c].count / held[c].seen, 4));
    const n = train[c].count * 64;
    stats.meanOverRms.push(sig(train[c].sum / n / Math.sqrt(train[c].sumSq / n), 4));
    // share of the energy in the blocks' means (what a DC term would carry even for white noise: 1/64)
    let dcE = 0;
    const tc = fullMoment(train[c]);
    for (let p = 0; p < 64; p++) for (let q = 0; q < 64; q++) dcE += tc[p * 64 + q];
    stats.dcEnergyFraction.push(sig(dcE / 64 / (train[c].sumSq / train[c].count), 4));
  }
  const seconds = (Date.now() - t0) / 1000;
  const command = `node training/video/residual_transform.mjs --data ${opts.data} --out ${opts.out} --seed ${opts.seed} --frames ${opts.frames}${opts.keep !== 64 ? ` --keep ${opts.keep}` : ''}`;
  const blob = readFileSync(keyframeFile);
  const trainPhotos = files.length - HELD_OUT.length;
  const manifest = {
    format: 'aic-inter-model',
    contractVersion: 1,
    name: 'aic-inter-v1',
    version: '1.0.0',
    description:
      'Inter-frame (P-frame) data: the keyframe reference transform (the linear part of aic-image-v1\'s decoder in fixed point) and a separable 8x8 KLT per YCoCg channel learned on motion-compensated residuals of motion synthesised from the training photos.',
    keyframeReference: {
      imageModel: 'aic-image-v1@1.0.0',
      file: 'keyframe-inverse.bin',
      sha256: createHash('sha256').update(blob).digest('hex'),
      coefficients: 192,
      block: 8,
      weightShift: 15,
      biasShift: 15,
      channelOrder: 'o = c*64 + dy*8 + dx, c in R,G,B; bias includes +0.5 and x255',
      layout: '192*192 int16 LE weights, row-major [out][in], round(W * 2^15) of decoder.onnx inverse.weight; then 192 int32 LE biases, round((inverse.bias + 0.5) * 255 * 2^15)',
    },
    residualTransform: {
      block: 8,
      colour: 'YCoCg',
      colourDefinition: 'Y = (R+2G+B)/4, Co = (R-B)/2, Cg = (-R+2G-B)/4 of the RGB residual',
      transform: 'coefficients = V . block . H^T per channel; row k of V (H) is basis function k over sample n (row index y for V, column index x for H)',
      shift,
      channels: CHANNELS,
      vertical: result.vertical,
      horizontal: result.horizontal,
      verticalFloat: result.verticalFloat,
      horizontalFloat: result.horizontalFloat,
      variances: result.variances,
      variancesLayout: 'per channel, held-out coefficient variances (residual levels squared) in the learned basis, row-major [k_v][k_h]',
    },
    training: {
      data: `train-images (${trainPhotos} photos; 10 held out for the coding-gain report)`,
      heldOut: HELD_OUT,
      seed: opts.seed,
      framesPerSequence: opts.frames,
      sequencesPerPhoto: KINDS,
      pairs,
      heldOutPairs: heldPairs,
      blocks: train.map((s) => s.count),
      heldOutBlocks: held.map((s) => s.count),
      keptBlockRule: `8x8 block of one channel kept when sum |residual| >= ${opts.keep}`,
      keptFraction: stats.keptFraction,
      motionSearch: { ...SEARCH, vectors: vecHist, msPerPair: sig(searchMs / (pairs + heldPairs), 4) },
      meanOverRms: stats.meanOverRms,
      dcEnergyFraction: stats.dcEnergyFraction,
      eigenvalues: eigen,
      signRule: `each row's sum positive; where |sum| < ${SIGN_SUM_TOLERANCE}, its first entry above 1e-6 in magnitude positive`,
      codingGainDb: gains,
      codingGainNote: '10 log10(arithmetic / geometric mean of the 64 coefficient variances) on the held-out residual blocks; fullKlt: the non-separable 64-point KLT of those same blocks (an upper bound)',
      integerOrthonormality: { shift, maxAbsMMtMinusI: { vertical: ortho.vertical, horizontal: ortho.horizontal }, maxRowNormSquaredError: ortho.maxRowNormSquaredError },
      seconds: sig(seconds, 4),
      command,
    },
  };
  mkdirSync(opts.out, { recursive: true });
  writeFileSync(path.join(opts.out, 'manifest.json'), `${pretty(manifest)}\n`);
  console.log(pretty({ pairs, heldPairs, blocks: manifest.training.blocks, keptFraction: stats.keptFraction, meanOverRms: stats.meanOverRms, dcEnergyFraction: stats.dcEnergyFraction, codingGainDb: gains, integerOrthonormality: manifest.training.integerOrthonormality, vectors: vecHist, seconds: sig(seconds, 4) }));
  console.log(`wrote ${path.join(opts.out, 'manifest.json')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
