// What the predicted-frame encoder's tuning scripts share (training/video/tune_decimation.mjs,
// training/video/tune_rd.mjs): the refusal of evaluation data, the sequences of motion synthesised
// from the training photos with their keyframes, and one rate-quality curve of the encoder at fixed
// qps over all of them.
//
// For each photo (the first `photos` of the training photos; the ten held out by
// residual_transform.mjs are skipped) and each kind of motion, a sequence of `frames` frames: the
// first coded by the image codec at level 4 as the keyframe, the rest as predicted frames at a fixed
// qp (one pass, unscored, deblocked, compact, as a session sends them but without its rate control),
// decoded by a receiving stream. A curve point pools a qp's bytes and mean quality over them.
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { arg } from '../../bench/args.mjs';
import { psnrY } from '../../bench/bench-lib.mjs';
import { H, KINDS, makeRng, sequence, W } from './motion_synthesis.mjs';

export { H, psnrY, W };
export const HELD_OUT = new Set(['005.png', '010.png', '015.png', '020.png', '025.png', '030.png', '035.png', '040.png', '045.png', '049.png']);
const KEYFRAME_LEVEL = 4;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A tuning script's start: its options (--data, --seed, --photos, --frames, each defaulting to
 * `defaults`' or the tuning runs'; --data refused where it names an evaluation set), the library
 * (from dist/), an engine with the image codec, the shipped inter model, and the sequences.
 */
export async function setUp(script, defaults = {}) {
  const d = { data: path.join(root, '..', 'shared', 'data', 'train-images'), seed: 1, photos: 20, frames: 8, ...defaults };
  const opts = { data: arg('data', d.data), seed: Number(arg('seed', d.seed)), photos: Number(arg('photos', d.photos)), frames: Number(arg('frames', d.frames)) };
  refuseEvaluationData(script, opts.data);
  const aic = await import(path.join(root, 'dist', 'index.js'));
  const { loadInterCodec } = await import(path.join(root, 'dist', 'inter-codec.js'));
  const engine = await aic.createEngine({ executionProvider: 'cpu', models: { audio: false } });
  const image = engine.imageCodec();
  const inter = await loadInterCodec(path.join(root, 'models', 'aic-inter-v1', 'manifest.json'), image);
  const { sequences, files } = await loadSequences(image, opts);
  return { opts, aic, engine, image, inter, sequences, files };
}

/** Exits when `data` names an evaluation set: tuning runs on ../shared/data/train-images only. */
export function refuseEvaluationData(script, data) {
  for (const p of [data, existsSync(data) ? realpathSync(data) : data]) {
    const bad = ['kodak', 'video', 'vctk', 'music'].find((w) => p.toLowerCase().includes(w));
    if (bad) {
      console.error(`${script}: --data ${data} names an evaluation set ("${bad}"); tune on ../shared/data/train-images only`);
      process.exit(2);
    }
  }
}

function interleave(planes) {
  const out = Buffer.alloc(W * H * 3);
  for (let i = 0; i < W * H; i++) {
    out[3 * i] = planes[0][i];
    out[3 * i + 1] = planes[1][i];
    out[3 * i + 2] = planes[2][i];
  }
  return out;
}


/** The sequences, rendered once, each with its keyframe payload. */
export async function loadSequences(image, { data, seed, photos, frames }) {
  const files = readdirSync(data).filter((f) => f.toLowerCase().endsWith('.png') && !HELD_OUT.has(f)).sort().slice(0, photos);
  const sequences = [];
  for (const [fi, file] of files.entries()) {
    const meta = await sharp(path.join(data, file)).metadata();
    for (let kind = 0; kind < KINDS.length; kind++) {
      const rng = makeRng(seed, fi + 1, kind + 1, 0xdec);
      const fmin = Math.max(760 / meta.width, 460 / meta.height);
      const f = rng.range(fmin, Math.max(fmin, Math.min(1, 1250 / meta.width)));
      const iw = Math.round(meta.width * f);
      const ih = Math.round(meta.height * f);
      const img = await sharp(path.join(data, file)).removeAlpha().toColourspace('srgb').resize(iw, ih, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
      const rendered = sequence(KINDS[kind], img, iw, ih, frames, rng).frames.map(interleave);
      const key = (await image.encode({ format: 'rgb24', width: W, height: H, data: rendered[0] }, { level: KEYFRAME_LEVEL, keyframe: true, frameType: 'video' })).payload;
      sequences.push({ name: `${file}/${KINDS[kind]}`, frames: rendered, key });
    }
  }
  return { sequences, files };
}

/**
 * The encoder's curve at the qps with `options` (encode options of the native stream): per qp the
 * mean bytes of a predicted frame and the mean quality of its decoded frame by each measure in
 * `measures` ({ name: (source, decoded) => number }).
 */
export async function curve(inter, sequences, qps, options, measures) {
  const points = [];
  for (const qp of qps) {
    let bytes = 0;
    let n = 0;
    const sums = Object.fromEntries(Object.keys(measures).map((k) => [k, 0]));
    for (const s of sequences) {
      const tx = inter.createStream();
      const rx = inter.createStream();
      tx.adoptKeyframe(s.key);
      rx.adoptKeyframe(s.key);
      for (let k = 1; k < s.frames.length; k++) {
        const r = await tx.encode({ data: s.frames[k], width: W, height: H, format: 'rgb24' }, { qp, sequence: k, score: false, maxPasses: 1, minQp: qp, maxQp: qp, compact: true, ...options });
        tx.commit();
        const d = await rx.decode(r.payload);
        bytes += r.payload.length;
        for (const [name, fn] of Object.entries(measures)) sums[name] += fn(s.frames[k], d.data);
        n++;
      }
    }
    points.push({ qp, rate: bytes / n, ...Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n])) });
  }
  return points;
}
