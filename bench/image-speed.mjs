// Encode + decode time of one frame through the image codec at its default level, at 640x360 and
// 1280x720, beside JPEG (sharp, quality 75) encode + decode of the same frames in the same
// process. Frames are Kodak images resized to cover each size.
//
//   npm run bench:image [-- --iterations 60 --json out.json --images ../shared/data/kodak]
//
// Medians and p99 in ms; the ratio to JPEG is the figure to compare across machines.
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { fmt, summarize } from './stats.mjs';
import { arg } from './args.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const iterations = Number(arg('iterations', 60));
const imagesDir = arg('images', path.join(root, '..', 'shared', 'data', 'kodak'));
const jsonOut = arg('json');
const aic = await import(path.join(root, 'dist', 'index.js'));
const engine = await aic.createEngine({ executionProvider: 'cpu' });
const codec = await engine.loadImageCodec(arg('model', aic.DEFAULT_IMAGE_MODEL));
const level = Number(arg('level', codec.defaultLevel));
const sources = readdirSync(imagesDir).filter((f) => f.endsWith('.png')).sort().slice(0, 4);

const results = [];
console.log(`image codec ${codec.name}@${codec.version} level ${level}, ${iterations} frames per size, ms per frame (encode + decode)`);
console.log('size       path                         median      p99   ratio   (pre / infer / post, median ms)');
for (const [width, height] of [
  [640, 360],
  [1280, 720],
]) {
  const frames = [];
  for (const f of sources) {
    frames.push(await sharp(path.join(imagesDir, f)).resize(width, height, { fit: 'cover' }).removeAlpha().raw().toBuffer());
  }
  const frameAt = (i) => ({ data: frames[i % frames.length], width, height, format: 'rgb24' });
  const ours = [];
  const parts = { enc: [], dec: [], pre: [], inf: [], post: [] };
  for (let i = 0; i < iterations + 5; i++) {
    const t0 = process.hrtime.bigint();
    const e = await codec.encode(frameAt(i), { level });
    const d = await codec.decode(e.payload);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i < 5) continue; // warm-up
    ours.push(ms);
    parts.pre.push(e.timings.preprocessMs + d.timings.preprocessMs);
    parts.inf.push(e.timings.inferenceMs + d.timings.inferenceMs);
    parts.post.push(e.timings.postprocessMs + d.timings.postprocessMs);
  }
  const jpeg = [];
  for (let i = 0; i < iterations + 5; i++) {
    const t0 = process.hrtime.bigint();
    const bytes = await sharp(frames[i % frames.length], { raw: { width, height, channels: 3 } }).jpeg({ quality: 75 }).toBuffer();
    await sharp(bytes).raw().toBuffer();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= 5) jpeg.push(ms);
  }
  const a = summarize(ours);
  const j = summarize(jpeg);
  const med = (xs) => summarize(xs).median;
  results.push({ size: `${width}x${height}`, aic: a, jpeg: j, ratioToJpeg: a.median / j.median, breakdown: { preprocessMs: med(parts.pre), inferenceMs: med(parts.inf), postprocessMs: med(parts.post) } });
  console.log(`${`${width}x${height}`.padEnd(10)} aic encode+decode            ${fmt(a.median)} ${fmt(a.p99)}  ${(a.median / j.median).toFixed(2)}x   (${med(parts.pre).toFixed(1)} / ${med(parts.inf).toFixed(1)} / ${med(parts.post).toFixed(1)})`);
  console.log(`${''.padEnd(10)} JPEG q75 encode+decode       ${fmt(j.median)} ${fmt(j.p99)}  1.00x`);
}
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ model: `${codec.name}@${codec.version}`, level, iterations, results }, null, 2));
await engine.close();
