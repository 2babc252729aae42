// Scores decoded clips against their references with the library's own audio score (the built
// addon): node training/audio/score_pairs.mjs DIR, where DIR holds ref_N.f32 and dec_N.f32
// (16 kHz mono float32). Prints the mean score, SI-SNR and log-mel distance as JSON.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const addon = createRequire(import.meta.url)(path.join(root, 'build', 'Release', 'aic.node'));
const dir = process.argv[2];
const read = (f) => {
  const b = readFileSync(path.join(dir, f));
  return new Float32Array(b.buffer, b.byteOffset, b.length / 4);
};
const all = readdirSync(dir)
  .filter((n) => n.startsWith('ref_'))
  .sort()
  .map((f) => addon.audioMetrics(read(f), read(f.replace('ref_', 'dec_')), 16000));
const mean = (k) => all.reduce((a, m) => a + m[k], 0) / all.length;
console.log(JSON.stringify({ score: mean('score'), siSnrDb: mean('siSnrDb'), logMelDistanceDb: mean('logMelDistanceDb') }));
