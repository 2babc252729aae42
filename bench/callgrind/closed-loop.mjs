// Driver for callgrind (docs/native-core.md, "The closed loop's cost"): one two-pass compress() of a
// 640x360 Kodak crop on one intra-op thread. Run: valgrind --tool=callgrind node --jitless bench/callgrind/closed-loop.mjs
import { createEngine } from '../../dist/index.js';
import sharp from 'sharp';
const e = await createEngine({ executionProvider: 'cpu', models: { audio: false }, intraOpThreads: 1 });
const { data } = await sharp(new URL('../../../shared/data/kodak/kodim01.png', import.meta.url).pathname).resize(640, 360, { fit: 'cover' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const r = await e.imageCodec().compress({ format: 'rgb24', width: 640, height: 360, data }, { startLevel: 3, aim: 0.9, tileAim: 0.65, maxPasses: 2, probeDown: true });
console.log(r.passes.length, r.level, r.ssim);
await e.close();
