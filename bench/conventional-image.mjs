// The conventional step of the video fallback ladder, measured as the session runs it: for each
// Kodak photo cropped to 640x360, the lowest JPEG and WebP (effort 0) quality whose SSIM reaches
// the floor, its bytes, and the time of one trial (encode + decode + score, all off the event
// loop), beside the neural codec's open loop (one encoder run + coding) at the level that reaches
// the same floor. Medians and p99 over the set; the choice of JPEG as the default conventional
// codec (src/conventional/image.ts) rests on this.
//   node bench/conventional-image.mjs [--floor 0.85] [--out docs/results/conventional-image.json]
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { createEngine } from '../dist/index.js';
import { decodeConventional, encodeConventional } from '../dist/conventional/image.js';
import { native } from '../dist/native/load.js';
import { arg } from './args.mjs';
import { summarize } from './stats.mjs';

const floor = Number(arg('floor', '0.85'));
const dir = arg('dir', path.resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'kodak'));
const W = 640;
const H = 360;
const engine = await createEngine({ executionProvider: 'cpu' });
const codec = engine.imageCodec();
const rows = [];
const per = { jpeg: { bytes: [], ms: [] }, webp: { bytes: [], ms: [] }, neural: { bytes: [], ms: [] } };
for (const name of readdirSync(dir).filter((n) => n.endsWith('.png')).sort()) {
  const data = await sharp(path.join(dir, name)).resize({ width: W, height: H, fit: 'cover' }).removeAlpha().raw().toBuffer();
  const image = { data, width: W, height: H, format: 'rgb24' };
  const row = { image: name };
  for (const c of ['jpeg', 'webp']) {
    let lo = 1;
    let hi = 100;
    let found = null;
    while (lo < hi) {
      const q = Math.floor((lo + hi) / 2);
      const t = performance.now();
      const body = await encodeConventional(image, c, q);
      const back = await decodeConventional(body, c, 'rgb24', W, H);
      const s = await native().scoreFrame(data, back, W, H, 'rgb24');
      const ms = performance.now() - t;
      if (s.ssim >= floor) {
        hi = q;
        found = { quality: q, bytes: body.length + 44, ssim: s.ssim, trialMs: ms };
      } else lo = q + 1;
    }
    row[c] = found;
    if (found) {
      per[c].bytes.push(found.bytes);
      per[c].ms.push(found.trialMs);
    }
  }
  // The neural level that reaches the floor (closed loop), and the open loop's time at it.
  const search = await codec.compress(image, { startLevel: 0, aim: floor, maxPasses: 5, bisect: true });
  const t = performance.now();
  const open = await codec.compress(image, { startLevel: search.level, aim: floor, maxPasses: 1, verify: false });
  const openMs = performance.now() - t;
  row.neural = { level: search.level, bytes: open.payload.length, ssim: search.ssim, openLoopMs: openMs };
  per.neural.bytes.push(open.payload.length);
  per.neural.ms.push(openMs);
  rows.push(row);
  console.log(name, JSON.stringify(row));
}
const summary = Object.fromEntries(Object.entries(per).map(([k, v]) => [k, { bytes: summarize(v.bytes), ms: summarize(v.ms) }]));
console.log(JSON.stringify(summary, null, 1));
const out = arg('out', null);
if (out) writeFileSync(out, JSON.stringify({ command: `node bench/conventional-image.mjs --floor ${floor}`, set: 'Kodak, cropped to 640x360', floor, machine: '2-core CPU', summary, rows }, null, 1));
await engine.close();
