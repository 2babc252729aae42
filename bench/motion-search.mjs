// What motion compensation buys on real camera video, and what the search costs: for consecutive
// frames of the clips in ../shared/data/video (decoded by ffmpeg, scaled and centre-cropped to
// 640x360), the luma SAD of the plain frame difference (zero motion), of the C++ fast search's
// prediction (native/core/video/motion_search.h: candidates, hexagon walk, quarter-pixel
// refinement) and of the exhaustive full-pixel search over the same range with the same
// refinement (the yardstick of how good the fast search is), plus the time per frame of each and
// the positions evaluated. The first stage of inter-frame coding (issue 16); the residual coding
// is not built yet. Prints JSON.
//   node bench/motion-search.mjs [--frames N] [--size 640x360] [--block 16] [--range 32] [--json FILE]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cameraFrames } from './bench-lib.mjs';
import { summarize } from './stats.mjs';

const require = createRequire(import.meta.url);
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { native } = require(path.join(root, 'dist', 'native', 'load.js'));
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : def;
};
const frames = Number(arg('--frames', '30'));
const [width, height] = arg('--size', '640x360').split('x').map(Number);
const options = { blockSize: Number(arg('--block', '16')), range: Number(arg('--range', '32')) };
const clips = ['box.mp4', 'cup.mp4'].map((f) => path.join(root, '..', 'shared', 'data', 'video', f));

/** BT.601 luma (limited range, as the I420 path uses) of an rgb24 frame. */
function luma(rgb) {
  const y = Buffer.alloc(rgb.length / 3);
  for (let i = 0, j = 0; j < y.length; i += 3, j++) y[j] = (66 * rgb[i] + 129 * rgb[i + 1] + 25 * rgb[i + 2] + 128 + 4096) >> 8;
  return y;
}

const b = native();
const out = { command: `node bench/motion-search.mjs --frames ${frames} --size ${width}x${height} --block ${options.blockSize} --range ${options.range}`, date: new Date().toISOString(), options, clips: [] };
for (const clip of clips) {
  const decoded = cameraFrames(clip, width, height, frames);
  if (!decoded) {
    console.error(`motion-search: ${clip}: not found or not decodable by ffmpeg; skipped`);
    continue;
  }
  const planes = decoded.map((f) => luma(f.data));
  const sums = { zero: 0, fast: 0, exhaustive: 0 };
  const times = { fast: [], exhaustive: [] };
  let evaluatedFast = 0;
  let evaluatedFull = 0;
  for (let k = 1; k < planes.length; k++) {
    const ref = planes[k - 1];
    const cur = planes[k];
    let zero = 0;
    for (let i = 0; i < cur.length; i++) zero += Math.abs(cur[i] - ref[i]);
    sums.zero += zero;
    let t = process.hrtime.bigint();
    const fast = b.motionSearch(ref, cur, width, height, options);
    times.fast.push(Number(process.hrtime.bigint() - t) / 1e6);
    t = process.hrtime.bigint();
    const full = b.motionSearch(ref, cur, width, height, { ...options, exhaustive: true });
    times.exhaustive.push(Number(process.hrtime.bigint() - t) / 1e6);
    sums.fast += fast.sad.reduce((a, v) => a + v, 0);
    sums.exhaustive += full.sad.reduce((a, v) => a + v, 0);
    evaluatedFast += fast.evaluated;
    evaluatedFull += full.evaluated;
  }
  const pairs = planes.length - 1;
  out.clips.push({
    clip: path.basename(clip),
    pairs,
    meanAbsDifferencePerPixel: { zeroMotion: sums.zero / (pairs * width * height), fastSearch: sums.fast / (pairs * width * height), exhaustive: sums.exhaustive / (pairs * width * height) },
    residualVsZeroMotion: { fast: sums.fast / sums.zero, exhaustive: sums.exhaustive / sums.zero },
    fastOverExhaustive: sums.fast / sums.exhaustive,
    positionsPerBlock: { fast: evaluatedFast / (pairs * Math.ceil(width / options.blockSize) * Math.ceil(height / options.blockSize)), exhaustive: evaluatedFull / (pairs * Math.ceil(width / options.blockSize) * Math.ceil(height / options.blockSize)) },
    msPerFrame: { fast: summarize(times.fast), exhaustive: summarize(times.exhaustive) },
  });
}
const json = arg('--json', null);
if (json) writeFileSync(json, `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
