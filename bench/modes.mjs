// Modes order bytes and scores on every photo of a set, on each photo's first frame (a fresh
// session, no history): off >= conservative >= adaptive >= aggressive in bytes and in score.
//   node bench/modes.mjs [dir] [count]   (default ../shared/data/kodak, every photo)
import sharp from 'sharp';
import { createEngine } from '../dist/index.js';
const engine = await createEngine({ executionProvider: 'cpu' });
const dir = process.argv[2] ?? '../shared/data/kodak';
const { readdirSync } = await import('node:fs');
let bad = 0;
for (const name of readdirSync(dir).filter((n) => /\.(png|jpg)$/i.test(n)).slice(0, Number(process.argv[3] ?? 99))) {
  const { data, info } = await sharp(`${dir}/${name}`).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const out = [];
  for (const mode of ['off', 'conservative', 'adaptive', 'aggressive']) {
    const s = engine.openSession({ mode });
    const r = await s.compressFrame({ type: 'video', format: 'rgb24', width: info.width, height: info.height, data });
    out.push({ mode, bytes: r.compressedBytes, score: r.quality.score, codec: r.codec, level: r.qualityLevel, status: r.status });
    s.close();
  }
  let ok = true;
  for (let i = 1; i < 4; i++) if (out[i].bytes > out[i - 1].bytes || out[i].score > out[i - 1].score + 1e-9) ok = false;
  if (!ok) bad++;
  console.log(name, ok ? 'ok ' : 'BAD', out.map((o) => `${o.mode[0]}:${o.codec}/${o.level} ${o.bytes} ${o.score.toFixed(3)}`).join(' | '));
}
console.log('non-monotone', bad);
await engine.close();
