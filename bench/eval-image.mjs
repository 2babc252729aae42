// Rate-distortion evaluation of the image codec beside JPEG and WebP (both through sharp), on a
// folder of images. Every image is coded at every quality level; JPEG and WebP at qualities that
// span the same rates. Reports bits per pixel, PSNR (RGB), SSIM and MS-SSIM (native/core/image/metrics.h),
// the BD-rate against JPEG and WebP, and writes a rate-distortion plot.
//
//   npm run eval -- --images ../shared/data/kodak --json docs/results/kodak-image.json \
//                   --plot docs/results/kodak-image.svg [--model models/aic-image-v1/manifest.json] [--limit N]
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { bdRate, qualityAt } from './bdrate.mjs';
import { renderRdPlot } from './rd-plot.mjs';
import { arg } from './args.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const imagesDir = arg('images', path.join(root, '..', 'shared', 'data', 'kodak'));
const jsonOut = arg('json');
const plotOut = arg('plot');
const limit = Number(arg('limit', 0));
const aic = await import(path.join(root, 'dist', 'index.js'));
const modelPath = arg('model', aic.DEFAULT_IMAGE_MODEL);

const JPEG_QUALITIES = [5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90, 95];
const WEBP_QUALITIES = [5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95];

const files = readdirSync(imagesDir)
  .filter((f) => /\.(png|jpe?g|webp|tiff?)$/i.test(f))
  .sort()
  .slice(0, limit || undefined);
if (files.length === 0) {
  console.error(`eval: no images in ${imagesDir}`);
  process.exit(1);
}

const engine = await aic.createEngine({ executionProvider: 'cpu' });
const codec = await engine.loadImageCodec(modelPath);
const perImage = [];
// codec -> setting -> list of per-image points
const points = { aic: new Map(), jpeg: new Map(), webp: new Map() };
const add = (codecName, setting, p) => {
  if (!points[codecName].has(setting)) points[codecName].set(setting, []);
  points[codecName].get(setting).push(p);
};

const started = Date.now();
for (const [n, file] of files.entries()) {
  const { data, info } = await sharp(path.join(imagesDir, file)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const { width, height } = info;
  const pixels = width * height;
  const measure = (recon, bytes, extra = {}) => ({ bpp: (bytes * 8) / pixels, ...aic.imageQuality(data, recon, width, height), ...extra });
  const row = { file, width, height, aic: [], jpeg: [], webp: [] };
  for (let level = 0; level < codec.levels; level++) {
    const enc = await codec.encode({ data, width, height, format: 'rgb24' }, { level });
    const dec = await codec.decode(enc.payload);
    const p = measure(dec.data, enc.payload.length, { level, encodeMs: enc.timings.totalMs, decodeMs: dec.timings.totalMs });
    row.aic.push(p);
    add('aic', level, p);
  }
  for (const q of JPEG_QUALITIES) {
    const bytes = await sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: q }).toBuffer();
    const p = measure(await sharp(bytes).raw().toBuffer(), bytes.length, { quality: q });
    row.jpeg.push(p);
    add('jpeg', q, p);
  }
  for (const q of WEBP_QUALITIES) {
    const bytes = await sharp(data, { raw: { width, height, channels: 3 } }).webp({ quality: q }).toBuffer();
    const p = measure(await sharp(bytes).raw().toBuffer(), bytes.length, { quality: q });
    row.webp.push(p);
    add('webp', q, p);
  }
  perImage.push(row);
  process.stderr.write(`\reval: ${n + 1}/${files.length} ${file} (${((Date.now() - started) / 1000).toFixed(0)} s)   `);
}
process.stderr.write('\n');

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const curve = (codecName) =>
  [...points[codecName].entries()].map(([setting, ps]) => ({
    setting,
    bpp: mean(ps.map((p) => p.bpp)),
    psnr: mean(ps.map((p) => p.psnr)),
    ssim: mean(ps.map((p) => p.ssim)),
    msssim: mean(ps.map((p) => p.msssim)),
    // MS-SSIM in dB, the usual scale for comparing it across codecs
    msssimDb: mean(ps.map((p) => -10 * Math.log10(Math.max(1e-10, 1 - p.msssim)))),
    ...(codecName === 'aic' ? { encodeMs: mean(ps.map((p) => p.encodeMs)), decodeMs: mean(ps.map((p) => p.decodeMs)) } : {}),
  }));
const curves = { aic: curve('aic'), jpeg: curve('jpeg'), webp: curve('webp') };
const rq = (c, key) => c.map((p) => ({ rate: p.bpp, quality: p[key] }));
const summary = {
  bdRatePsnr: { vsJpeg: bdRate(rq(curves.jpeg, 'psnr'), rq(curves.aic, 'psnr')), vsWebp: bdRate(rq(curves.webp, 'psnr'), rq(curves.aic, 'psnr')) },
  bdRateMsssimDb: { vsJpeg: bdRate(rq(curves.jpeg, 'msssimDb'), rq(curves.aic, 'msssimDb')), vsWebp: bdRate(rq(curves.webp, 'msssimDb'), rq(curves.aic, 'msssimDb')) },
  // PSNR gain over JPEG at each of our rate points (null where JPEG's curve does not reach)
  psnrGainOverJpeg: curves.aic.map((p) => {
    const j = qualityAt(rq(curves.jpeg, 'psnr'), p.bpp);
    return { level: p.setting, bpp: p.bpp, gainDb: j === null ? null : p.psnr - j };
  }),
};
const result = {
  dataset: path.basename(path.resolve(imagesDir)),
  images: files.length,
  model: { name: codec.name, version: codec.version, manifest: path.relative(root, modelPath) },
  sharp: sharp.versions,
  metrics: 'PSNR over RGB; SSIM and MS-SSIM per R, G, B plane, averaged (native/core/image/metrics.h); curves average per-image values',
  curves,
  summary,
  perImage,
};

const fmt = (v, d = 2) => (v === null || v === undefined ? 'n/a' : v.toFixed(d));
console.log(`\n${result.dataset}: ${files.length} images, model ${codec.name}@${codec.version}`);
console.log('codec  setting    bpp    PSNR    SSIM   MS-SSIM');
for (const [name, c] of Object.entries(curves)) {
  for (const p of c) console.log(`${name.padEnd(6)} ${String(p.setting).padStart(7)} ${fmt(p.bpp, 3).padStart(7)} ${fmt(p.psnr).padStart(7)} ${fmt(p.ssim, 4).padStart(7)} ${fmt(p.msssim, 4).padStart(8)}`);
}
console.log(`BD-rate (PSNR):       vs JPEG ${fmt(summary.bdRatePsnr.vsJpeg, 1)} %, vs WebP ${fmt(summary.bdRatePsnr.vsWebp, 1)} %`);
console.log(`BD-rate (MS-SSIM dB): vs JPEG ${fmt(summary.bdRateMsssimDb.vsJpeg, 1)} %, vs WebP ${fmt(summary.bdRateMsssimDb.vsWebp, 1)} %`);
console.log(`PSNR gain over JPEG at our rates: ${summary.psnrGainOverJpeg.map((g) => `${fmt(g.bpp, 2)}bpp ${fmt(g.gainDb)}dB`).join(', ')}`);

if (jsonOut) {
  mkdirSync(path.dirname(path.resolve(jsonOut)), { recursive: true });
  writeFileSync(jsonOut, JSON.stringify(result, null, 1));
}
if (plotOut) {
  mkdirSync(path.dirname(path.resolve(plotOut)), { recursive: true });
  writeFileSync(
    plotOut,
    renderRdPlot({
      title: `${result.dataset} (${files.length} images): rate-distortion`,
      panels: [
        { yLabel: 'PSNR RGB (dB)', key: 'psnr' },
        { yLabel: 'MS-SSIM (dB)', key: 'msssimDb' },
      ],
      series: [
        { name: `aic ${codec.name}`, color: '#d62728', points: curves.aic },
        { name: 'JPEG (sharp)', color: '#1f77b4', points: curves.jpeg },
        { name: 'WebP (sharp)', color: '#2ca02c', points: curves.webp },
      ],
    }),
  );
}
await engine.close();
