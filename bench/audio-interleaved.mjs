// The audio session against the plain codec, timed frame by frame in one loop: for each 20 ms frame
// of real speech (VCTK p225_001, 16 kHz), a sending session's compressFrame() and a receiving
// session's decompressFrame(), then the plain encoder + decoder at level 4 on the same frame; six
// passes over the clip, medians after the first 100 frames. The benchmark's tinybench rows
// (npm run bench, section 1) time each path in a loop of its own, where the plain codec runs about
// twice as fast as when its calls alternate with the session's; this script gives the other view.
//   npm run build && node bench/audio-interleaved.mjs
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav } from './wav.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { createEngine } = await import(path.join(root, 'dist', 'index.js'));
const engine = await createEngine({ executionProvider: 'cpu' });
const audio = engine.audioCodec();
const { rate, channels } = readWav(path.join(root, '..', 'shared', 'data', 'speech', 'vctk', 'p225_001.wav'));
const x = channels[0];
const n = rate / 50;
const frames = [];
for (let i = 0; i + n <= x.length; i += n) frames.push(x.slice(i, i + n));
const tx = engine.openSession({ sessionId: 'tx' });
const rx = engine.openSession({ sessionId: 'rx' });
const enc = audio.createEncoder(rate, 1);
const dec = audio.createDecoder();
const t = { compress: [], decompress: [], encode: [], decode: [] };
let sequence = 0;
for (let round = 0; round < 6; round++) {
  for (const data of frames) {
    let t0 = performance.now();
    const r = await tx.compressFrame({ type: 'audio', format: 'f32le', sampleRate: rate, channels: 1, data });
    t.compress.push(performance.now() - t0);
    t0 = performance.now();
    await rx.decompressFrame(r.payload);
    t.decompress.push(performance.now() - t0);
    t0 = performance.now();
    const e = await enc.encode({ data, format: 'f32le' }, { level: 4, sequence: sequence++ });
    t.encode.push(performance.now() - t0);
    t0 = performance.now();
    await dec.decode(e.payload);
    t.decode.push(performance.now() - t0);
  }
}
const median = (a) => {
  const s = a.slice(100).sort((p, q) => p - q);
  return s[s.length >> 1];
};
const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)]));
const session = m.compress + m.decompress;
const plain = m.encode + m.decode;
console.log(`session compressFrame ${m.compress.toFixed(3)} + decompressFrame ${m.decompress.toFixed(3)} = ${session.toFixed(3)} ms; plain encode ${m.encode.toFixed(3)} + decode ${m.decode.toFixed(3)} = ${plain.toFixed(3)} ms; ratio ${(session / plain).toFixed(2)}x (medians, ${t.encode.length - 100} frames)`);
await engine.close();
