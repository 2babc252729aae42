// Mean SSIM and worst-tile SSIM (64-px tiles, native/core/image/metrics.h) of every Kodak photo at every
// level of the image model: where the worst-tile floor (minQualityScore - 0.25) sits against what
// natural photos score at the floor.   npm run build && node bench/worst-tile.mjs
import sharp from 'sharp';
import { createEngine } from '../dist/index.js';
const engine = await createEngine({ executionProvider: 'cpu' });
const codec = engine.imageCodec();
const rows = [];
for (let k = 1; k <= 24; k += 1) {
  const f = `${new URL("../../shared/data/kodak/", import.meta.url).pathname}kodim${String(k).padStart(2, '0')}.png`;
  const { data, info } = await sharp(f).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const line = [];
  for (let l = 0; l < codec.levels; l++) {
    const r = await codec.compress({ data, width: info.width, height: info.height, format: 'rgb24' }, { startLevel: l, aim: 0, maxPasses: 1 });
    line.push(`${r.ssim.toFixed(3)}/${r.worstTileSsim.toFixed(3)}`);
  }
  console.log(k, line.join(' '));
}
await engine.close();
