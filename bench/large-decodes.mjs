// What a burst of large decodes does to the small frames beside them (docs/api.md, "Large decodes").
// Usage: npm run build && node bench/large-decodes.mjs [--side 2048] [--large 4] [--small 100]
// One engine per run, two runs in one process: with the lane of large decodes (the default: more
// than 8 MiB of declared output, one at a time) and without it (every decode straight onto the
// thread pool). Each run starts `--large` decodes of a flat side x side frame at once, then
// decodes one 20 ms neural audio payload every 20 ms (`--small` of them) in a session, as a call
// would, and reports the small decodes' latency (median, p99, max) and when the large ones ended.
import { createEngine } from '../dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const side = Number(arg('side', '2048'));
const largeCount = Number(arg('large', '4'));
const smallCount = Number(arg('small', '100'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function run(label, largeDecodes) {
  const engine = await createEngine({ executionProvider: 'cpu', largeDecodes });
  const tx = engine.openSession({ maxLatencyMs: Infinity });
  const big = (await tx.compressFrame({ type: 'video', format: 'rgb24', width: side, height: side, data: Buffer.alloc(side * side * 3, 128) })).payload;
  const pcm = Buffer.alloc(640);
  for (let i = 0; i < 320; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin(i / 5)), i * 2);
  const audio = [];
  for (let i = 0; i < smallCount; i++) audio.push((await tx.compressFrame({ type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: pcm, timestamp: i * 20 })).payload);
  const rx = engine.openSession();
  const t0 = performance.now();
  const largeEnds = [];
  const larges = Array.from({ length: largeCount }, () => engine.decompressFrame(big).then(() => largeEnds.push(performance.now() - t0)));
  const latencies = [];
  for (const p of audio) {
    const t = performance.now();
    await rx.decompressFrame(p);
    latencies.push(performance.now() - t);
    await sleep(Math.max(0, 20 - (performance.now() - t)));
  }
  await Promise.all(larges);
  const row = {
    run: label,
    largeDecodes: `${largeCount} x ${side}x${side}`,
    smallMedianMs: +pct(latencies, 0.5).toFixed(2),
    smallP99Ms: +pct(latencies, 0.99).toFixed(1),
    smallMaxMs: +Math.max(...latencies).toFixed(1),
    largeEndsS: largeEnds.map((t) => +(t / 1000).toFixed(1)),
  };
  await engine.close();
  return row;
}

const rows = [await run('lane (default)', undefined), await run('no lane', { overBytes: Number.MAX_SAFE_INTEGER })];
console.table(rows);
console.log(JSON.stringify(rows));
