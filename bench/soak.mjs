// Soak: many sessions opened and closed over a long run of small frames (160x90 video and 20 ms
// audio, with a decode of each payload), RSS sampled as it goes. After a warm-up, RSS must not
// grow more than 5 %: a leak per frame or per session shows as steady growth.
//   npm run build && node bench/soak.mjs [--frames 1000000] [--sessions 1000] [--json out.json]
import { writeFileSync } from 'node:fs';
import { createEngine } from '../dist/index.js';
import { arg } from './args.mjs';

const totalFrames = Number(arg('frames', '1000000'));
const totalSessions = Number(arg('sessions', '1000'));
const concurrent = Number(arg('concurrent', '16'));
const jsonOut = arg('json', null);
const W = 160;
const H = 90;

const engine = await createEngine({ executionProvider: 'cpu', maxSessions: 4096 });
const image = Buffer.alloc(W * H * 3);
for (let i = 0; i < image.length; i++) image[i] = (i * 31 + ((i / 480) | 0) * 7) & 255;
const pcm = Buffer.alloc(640);
for (let i = 0; i < 320; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin(i / 5) * Math.sin(i / 37)), i * 2);

const framesPerSession = Math.max(1, Math.floor(totalFrames / totalSessions));
const samples = [];
let done = 0;
let opened = 0;
let failures = 0;
const t0 = performance.now();
const sample = () => samples.push({ frames: done, sessions: opened, rssMiB: process.memoryUsage().rss / 2 ** 20, seconds: (performance.now() - t0) / 1000 });

async function runSession(k) {
  const tx = engine.openSession({ sessionId: `soak-${k}`, maxLatencyMs: Infinity });
  const rx = engine.openSession({ sessionId: `soak-rx-${k}` });
  opened++;
  for (let i = 0; i < framesPerSession; i++) {
    const frame = i % 2 === 0 ? { type: 'video', format: 'rgb24', width: W, height: H, data: image, timestamp: i } : { type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: pcm, timestamp: i };
    try {
      const r = await tx.compressFrame(frame);
      await rx.decompressFrame(r.payload);
    } catch {
      failures++;
    }
    done++;
    if (done % 5000 === 0) sample();
  }
  tx.close();
  rx.close();
}

sample();
let next = 0;
await Promise.all(
  Array.from({ length: concurrent }, async () => {
    while (next < totalSessions) await runSession(next++);
  }),
);
sample();
await engine.close();

// Growth after warm-up: the first 20 % of samples are warm-up (allocator pools, JIT, caches).
const warm = samples[Math.max(1, Math.floor(samples.length * 0.2))] ?? samples[0];
const last = samples[samples.length - 1];
const peak = Math.max(...samples.slice(samples.indexOf(warm)).map((s) => s.rssMiB));
const growth = (last.rssMiB - warm.rssMiB) / warm.rssMiB;
const result = {
  command: `node bench/soak.mjs --frames ${totalFrames} --sessions ${totalSessions} --concurrent ${concurrent}`,
  frames: done,
  sessions: opened,
  failures,
  seconds: last.seconds,
  rssAfterWarmupMiB: warm.rssMiB,
  rssEndMiB: last.rssMiB,
  rssPeakAfterWarmupMiB: peak,
  growthAfterWarmup: growth,
  samples,
};
console.log(`${done} frames over ${opened} sessions (x2 with receivers) in ${last.seconds.toFixed(0)} s, ${failures} failures; RSS after warm-up ${warm.rssMiB.toFixed(1)} MiB, at the end ${last.rssMiB.toFixed(1)} MiB (${(growth * 100).toFixed(1)} %), peak ${peak.toFixed(1)} MiB`);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(result, null, 1));
process.exitCode = growth < 0.05 && failures === 0 ? 0 : 1;
