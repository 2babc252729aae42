// Compresses a real image with the default neural image codec at every quality level, decodes
// each payload back, and prints what it measured beside JPEG at similar sizes.
//
//   node examples/compress-image.mjs [image.png|jpg] [--out decoded.png]
//
// Without an argument it uses kodim23.png from ../shared/data/kodak (the Kodak evaluation set).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { createEngine, imageQuality } = await import(path.join(root, 'dist', 'index.js'));

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? args.splice(outIndex, 2)[1] : undefined;
const input = args[0] ?? path.join(root, '..', 'shared', 'data', 'kodak', 'kodim23.png');
if (!existsSync(input)) {
  console.error(`no such image: ${input}\nusage: node examples/compress-image.mjs <image.png|jpg> [--out decoded.png]`);
  process.exit(1);
}

const { data, info } = await sharp(input).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
const { width, height } = info;
const engine = await createEngine();
const codec = await engine.loadImageCodec();
const e = engine.info();
console.log(`${path.basename(input)}: ${width}x${height}, ${data.length} bytes raw RGB`);
console.log(`engine: ONNX Runtime ${e.ortVersion}, provider ${e.models[0]?.encoder.provider}${e.providerFallbackReason ? ' (CUDA not used: ' + e.providerFallbackReason.split(':')[0] + ')' : ''}`);
console.log(`model: ${codec.name}@${codec.version}, ${codec.levels} levels\n`);
console.log('level   bytes    bpp   ratio   PSNR dB   SSIM   MS-SSIM  encode ms  decode ms   JPEG same size: PSNR dB');

const jpegCurve = [];
for (const q of [5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95]) {
  const bytes = await sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: q }).toBuffer();
  const back = await sharp(bytes).raw().toBuffer();
  jpegCurve.push({ bytes: bytes.length, psnr: imageQuality(data, back, width, height).psnr });
}
const jpegAt = (bytes) => {
  for (let i = 0; i + 1 < jpegCurve.length; i++) {
    const a = jpegCurve[i];
    const b = jpegCurve[i + 1];
    if (bytes >= a.bytes && bytes <= b.bytes) return a.psnr + ((Math.log(bytes) - Math.log(a.bytes)) / (Math.log(b.bytes) - Math.log(a.bytes))) * (b.psnr - a.psnr);
  }
  return NaN;
};

let last;
for (let level = 0; level < codec.levels; level++) {
  const enc = await codec.encode({ data, width, height, format: 'rgb24' }, { level });
  const dec = await codec.decode(enc.payload);
  const q = imageQuality(data, dec.data, width, height);
  const j = jpegAt(enc.payload.length);
  console.log(
    `${String(level).padStart(5)} ${String(enc.payload.length).padStart(7)} ${((enc.payload.length * 8) / (width * height)).toFixed(3).padStart(6)} ` +
      `${(1 - enc.payload.length / data.length).toFixed(3).padStart(7)} ${q.psnr.toFixed(2).padStart(9)} ${q.ssim.toFixed(4).padStart(6)} ${q.msssim.toFixed(4).padStart(9)} ` +
      `${enc.timings.totalMs.toFixed(1).padStart(10)} ${dec.timings.totalMs.toFixed(1).padStart(10)}   ${Number.isNaN(j) ? '   n/a' : j.toFixed(2).padStart(6)}`,
  );
  last = dec;
}
if (out) {
  await sharp(last.data, { raw: { width, height, channels: 3 } }).png().toFile(out);
  console.log(`\nwrote the level ${codec.levels - 1} reconstruction to ${out}`);
}
console.log('\nratio = 1 - compressed / raw bytes; PSNR over RGB; every payload was decoded and measured.');
await engine.close();
