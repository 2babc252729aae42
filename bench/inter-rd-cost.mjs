// What the predicted-frame encoder's rate-distortion decisions cost in time: the same P-frames
// (motion synthesised from 6 training photos, training/video/tuning_sequences.mjs) encoded with the
// decisions off (rdLambda 0) and at the default factor (0.05), closed loop scored, at qp 40, the
// two settings taking turns in 3 rounds in one process; median encode ms of each.
//   npm run build && node bench/inter-rd-cost.mjs
import { setUp, W, H } from '../training/video/tuning_sequences.mjs';

const { inter, engine, sequences } = await setUp('inter-rd-cost', { photos: 6, frames: 8 });
const t = { 0: [], 0.05: [] };
for (let round = 0; round < 3; round++)
  for (const lam of [0, 0.05])
    for (const s of sequences) {
      const tx = inter.createStream();
      tx.adoptKeyframe(s.key);
      for (let k = 1; k < s.frames.length; k++) {
        const a = performance.now();
        const r = await tx.encode({ data: s.frames[k], width: W, height: H, format: 'rgb24' }, { qp: 40, sequence: k, score: true, maxPasses: 1, minQp: 40, maxQp: 40, compact: true, rdLambda: lam });
        t[lam].push(performance.now() - a);
        tx.commit();
      }
    }
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
console.log('encode ms median: rd off', med(t[0]).toFixed(2), 'rd 0.05', med(t[0.05]).toFixed(2));
await engine.close();
