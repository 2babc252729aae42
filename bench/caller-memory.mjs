// Cost of the call-time copies against the work: 640x360 rgb24 frame, 20 ms 16 kHz s16 audio frame.
import { createEngine } from '../dist/index.js';
const N = 200;
const time = (fn, n = N) => { const t = performance.now(); for (let i = 0; i < n; i++) fn(); return ((performance.now() - t) / n) * 1000; };
const atime = async (fn, n = N) => { const t = performance.now(); for (let i = 0; i < n; i++) await fn(); return ((performance.now() - t) / n) * 1000; };
const W = 640, H = 360;
const rgb = Buffer.alloc(W * H * 3); for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 7 + (i >> 9)) & 255;
const pcm = Buffer.alloc(640); for (let i = 0; i < 320; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), 2 * i);
console.log(`copy of a 640x360 rgb24 frame (${rgb.length} B): ${time(() => Buffer.from(rgb), 2000).toFixed(1)} us`);
console.log(`copy of a 20 ms 16 kHz s16 frame (${pcm.length} B): ${time(() => Buffer.from(pcm), 20000).toFixed(2)} us`);
const engine = await createEngine({ executionProvider: 'cpu' });
const codec = engine.imageCodec();
const frame = { data: rgb, width: W, height: H, format: 'rgb24' };
await codec.encode(frame, { level: 4 });
console.log(`imageCodec().encode 640x360 (work, incl. one native copy): ${(await atime(() => codec.encode(frame, { level: 4 }), 50)).toFixed(0)} us`);
const payload = (await codec.encode(frame, { level: 4 })).payload;
const out = Buffer.alloc(rgb.length);
console.log(`imageCodec().decode 640x360 into a caller output (staged + copied back): ${(await atime(() => codec.decode(payload, { output: out }), 50)).toFixed(0)} us`);
console.log(`imageCodec().decode 640x360, native result: ${(await atime(() => codec.decode(payload), 50)).toFixed(0)} us`);
const s = engine.openSession({ maxLatencyMs: Infinity, interFrames: false }); // the intra path on the repeated frame
await s.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: rgb });
console.log(`session.compressFrame 640x360 (work, incl. the session copy): ${(await atime(() => s.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: rgb }), 30)).toFixed(0)} us`);
const a = engine.openSession();
console.log(`session.compressFrame 20 ms audio: ${(await atime(() => a.compressFrame({ type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: pcm }), 200)).toFixed(0)} us`);
await engine.close();
