// Audio sessions at scale on the JS thread: 64 sending sessions, 100 rounds of one 20 ms frame
// each (real speech, VCTK p232_003, 16 kHz), all in flight together. Prints wall time per frame
// and the event loop's busy time per frame (performance.eventLoopUtilization): how much of each
// frame's work still runs on the JavaScript thread.
//   npm run build && node bench/audio-js-thread.mjs
import { performance } from 'node:perf_hooks';
import { createEngine } from '../dist/index.js';
import { readWav } from '../bench/wav.mjs';
const engine = await createEngine({ executionProvider: 'cpu' });
const { rate, channels } = readWav(new URL('../../shared/data/speech/vctk/p232_003.wav', import.meta.url).pathname);
const x = channels[0], n = rate / 50;
const frames = [];
for (let i = 0; i + n <= x.length; i += n) frames.push(x.slice(i, i + n));
const sessions = Array.from({ length: 64 }, (_, i) => engine.openSession({ sessionId: 's' + i }));
const elu0 = performance.eventLoopUtilization();
const t0 = performance.now();
let count = 0;
for (let k = 0; k < 100; k++) {
  await Promise.all(sessions.map((s) => s.compressFrame({ type: 'audio', format: 'f32le', sampleRate: rate, channels: 1, data: frames[k % frames.length] })));
  count += sessions.length;
}
const wall = performance.now() - t0;
const elu = performance.eventLoopUtilization(elu0);
console.log(`64 sessions x 100 frames: ${(wall / count).toFixed(3)} ms/frame wall, JS thread busy ${(elu.active / count).toFixed(3)} ms/frame (utilization ${(elu.utilization * 100).toFixed(0)} %)`);
await engine.close();
