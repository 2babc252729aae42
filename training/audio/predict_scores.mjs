// Measures, for every level of an audio model, the score a live stream gets (the session's 1 s
// score window over the receiver's output, foreground windows only) on the training speech, and
// writes it into the manifest as levels[i].predictedScore. Sessions start a stream at the lowest
// level predicted to reach the floor (src/session/audio-path.ts startLevel).
//
//   npm run build && node training/audio/predict_scores.mjs [--data ../shared/data/speech/ljspeech] [--model models/aic-audio-v2/manifest.json]
//
// Only LJ Speech (the training set) is read: the evaluation sets (VCTK, music) stay unseen.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as aic from '../../dist/index.js';
import { readWav, resample } from '../../dist/cli/wav.js';
import { native } from '../../dist/native/load.js';

const root = path.dirname(path.dirname(path.dirname(fileURLToPath(import.meta.url))));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const dataDir = path.resolve(arg('data', path.join(root, '..', 'shared', 'data', 'speech', 'ljspeech')));
const manifestPath = path.resolve(arg('model', aic.DEFAULT_AUDIO_MODEL));
const RATE = 16000;
const N = RATE / 50;

const engine = await aic.createEngine({ executionProvider: 'cpu', models: { image: false, audio: false } });
const codec = await engine.loadAudioCodec(manifestPath);
const clips = readdirSync(dataDir).filter((f) => f.endsWith('.wav')).sort();
const sums = new Array(codec.levels).fill(0);
const counts = new Array(codec.levels).fill(0);
for (const file of clips) {
  const wav = readWav(path.join(dataDir, file));
  const x = resample(wav.channels[0], wav.sampleRate, RATE);
  for (let level = 0; level < codec.levels; level++) {
    const enc = codec.createEncoder(RATE, 1);
    const dec = codec.createDecoder();
    const window = new (native().AudioScoreWindow)(RATE, 1, codec.delaySamples(RATE));
    for (let at = 0; at + N <= x.length; at += N) {
      const frame = x.subarray(at, at + N);
      const s16 = Buffer.alloc(N * 2);
      for (let i = 0; i < N; i++) s16.writeInt16LE(Math.round(Math.max(-1, Math.min(1, frame[i])) * 32767), i * 2);
      const { payload } = enc.encodeSync({ data: s16, format: 's16le' }, { level });
      const d = dec.decodeSync(payload);
      const out = new Float32Array(N);
      for (let i = 0; i < N; i++) out[i] = d.data.readInt16LE(i * 2) / 32768;
      const ref = new Float32Array(N);
      for (let i = 0; i < N; i++) ref[i] = s16.readInt16LE(i * 2) / 32768;
      const q = window.push(ref, out);
      if (q.activeFraction >= 0.3) {
        sums[level] += q.score;
        counts[level]++;
      }
    }
  }
}
const predicted = sums.map((s, i) => Math.round((s / Math.max(1, counts[i])) * 10000) / 10000);
const text = readFileSync(manifestPath, 'utf8');
const m = JSON.parse(text);
m.levels.forEach((l, i) => {
  l.predictedScore = predicted[i];
});
m.training = { ...m.training, predictedScore: `mean 1 s window score of a live 16 kHz stream at each level, foreground windows, ${clips.length} clips of ${path.basename(dataDir)} (training/audio/predict_scores.mjs)` };
writeFileSync(manifestPath, JSON.stringify(m) + (text.endsWith('\n') ? '\n' : ''));
console.log(`predictedScore per level (${clips.length} clips): ${predicted.join(', ')}`);
await engine.close();
