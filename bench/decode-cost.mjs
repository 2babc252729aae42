// Peak memory and time of one neural image decode by declared size (docs/api.md, "Decoder limits").
// Usage: node bench/decode-cost.mjs <side>: codes a flat side x side frame (the smallest body of
// its size, the cheapest bomb) in one process, decodes it in a fresh one, whose peak RSS is the
// decode's (with the engine and model loaded: compare side 16).
// Prints { side, pixels, decodeMs, peakRssMiB, baseRssMiB, bytesPerPixel, nsPerPixel }.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../dist/index.js';

const side = Number(process.argv[2] ?? 1024);
const engine = await createEngine({ executionProvider: 'cpu', models: { audio: false }, limits: { maxPixels: 2 ** 26 } });
const file = path.join(tmpdir(), `aic-decode-cost-${side}.bin`);
if (process.argv[3] !== 'decode') {
  const s = engine.openSession({ maxLatencyMs: Infinity });
  const frame = Buffer.alloc(side * side * 3, 128);
  writeFileSync(file, (await s.compressFrame({ type: 'video', format: 'rgb24', width: side, height: side, data: frame })).payload);
  await engine.close();
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(side), 'decode'], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const payload = readFileSync(file);
const base = process.memoryUsage().rss;
const t0 = performance.now();
await engine.decompressFrame(payload);
const decodeMs = performance.now() - t0;
const { maxRSS } = process.resourceUsage(); // KiB, the process's peak
const pixels = side * side;
console.log(JSON.stringify({ side, pixels, payloadBytes: payload.length, decodeMs: Math.round(decodeMs), peakRssMiB: Math.round(maxRSS / 1024), baseRssMiB: Math.round(base / 2 ** 20), nsPerPixel: Math.round((decodeMs * 1e6) / pixels) }));
await engine.close();
