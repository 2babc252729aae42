// µs per mark() + push() of the native AudioScoreWindow (what every sending audio session does
// once per 20 ms frame), on VCTK speech at 16 and 48 kHz against a noisy copy of itself.
//   node bench/score-window.mjs [--addon build/Release/aic.node] [--seconds 60] [--window 1]
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav, resample } from './wav.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const addon = createRequire(import.meta.url)(path.resolve(root, arg('addon', 'build/Release/aic.node')));
const seconds = Number(arg('seconds', '60'));
const windowSeconds = Number(arg('window', '1'));
const dir = path.resolve(root, arg('speech', '../shared/data/speech/vctk'));

// The clips one after another, looped to `seconds`.
const clips = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort().map((f) => readWav(path.join(dir, f)));

function stream(rate) {
  const parts = clips.map((c) => resample(c.channels[0], c.rate, rate));
  const total = Math.round(seconds * rate);
  const x = new Float32Array(total);
  for (let at = 0, k = 0; at < total; k++) {
    const p = parts[k % parts.length];
    x.set(p.subarray(0, Math.min(p.length, total - at)), at);
    at += p.length;
  }
  // A decoded stream: the speech with noise about 25 dB under it (a fixed-seed LCG).
  let s = 12345;
  const y = new Float32Array(total);
  for (let i = 0; i < total; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    y[i] = x[i] + ((s / 4294967296) - 0.5) * 0.01;
  }
  return { x, y };
}

for (const rate of [16000, 48000]) {
  const { x, y } = stream(rate);
  const frame = rate / 50;
  const median = [];
  for (let run = 0; run < 3; run++) {
    const w = new addon.AudioScoreWindow(rate, windowSeconds, Math.round(rate * 0.02));
    const times = [];
    let check = 0;
    for (let at = 0; at + frame <= x.length; at += frame) {
      const r = x.subarray(at, at + frame), d = y.subarray(at, at + frame);
      const t0 = process.hrtime.bigint();
      w.mark();
      const q = w.push(r, d);
      times.push(Number(process.hrtime.bigint() - t0) / 1000);
      check += q.score;
    }
    times.sort((a, b) => a - b);
    median.push(times[times.length >> 1]);
    if (run === 0) console.log(`${rate} Hz: ${times.length} pushes, mean score ${(check / times.length).toFixed(6)}, p90 ${times[Math.floor(times.length * 0.9)].toFixed(1)} µs`);
  }
  median.sort((a, b) => a - b);
  console.log(`${rate} Hz: median µs per mark()+push(): ${median[1].toFixed(1)} (runs: ${median.map((v) => v.toFixed(1)).join(', ')})`);
}
