// The workload of the addon leak run (scripts/leaks-addon.sh, docs/RELIABILITY.md): every public
// path through the native addon, over `--frames` frames, in one process.
// Usage: node bench/leak-frames.mjs [--frames 10000] (normally under valgrind, through the script)
//
// Per block of 50 frames: a sending and a receiving session are opened and closed; frames alternate
// 32x32 video (neural, and every 5th through the ladder's JPEG fallback and the lossless codec),
// 20 ms speech (neural, and every 5th through Opus) and data; every payload is decoded; and the
// error paths run too: corrupt and truncated payloads, a payload over the limits, a detached
// output Buffer, a closed session. The image codec's and the audio codec's own calls, the sessionless
// decode, the scorers and engine.info() are called as well. Exits non-zero on an unexpected result.
import { createEngine, AicError } from '../dist/index.js';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const frames = Number(arg('frames', '10000'));
const W = 32, H = 32;
const image = Buffer.alloc(W * H * 3);
for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) image[(y * W + x) * 3 + c] = (x * 7 + y * 3 + c * 50 + ((x * y) % 11) * 9) & 255;
const pcm = Buffer.alloc(640);
for (let i = 0; i < 320; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin(i / 5) * Math.sin(i / 37)), i * 2);
const data = Buffer.from('control message '.repeat(8));

const engine = await createEngine({ executionProvider: 'cpu', limits: { maxPixels: 64 * 64 } });
let done = 0, expectedErrors = 0, unexpected = 0;
const expectError = async (p, code) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (e instanceof AicError && e.code === code) return void expectedErrors++;
    console.error('unexpected error', e);
  }
  unexpected++;
};

const t0 = performance.now();
for (let block = 0; done < frames; block++) {
  const fallbackCodec = block % 2 ? 'lossless' : 'conventional';
  // Every frame intra (interFrames: false): its payloads are also decoded without a session.
  const tx = engine.openSession({ sessionId: `tx-${block}`, maxLatencyMs: Infinity, fallbackCodec, interFrames: false });
  const rx = engine.openSession({ sessionId: `rx-${block}` });
  for (let i = 0; i < 50 && done < frames; i++, done++) {
    const kind = i % 3;
    const via = i % 5 === 4; // the ladder's lower steps now and then
    const frame =
      kind === 0
        ? { type: 'video', format: 'rgb24', width: W, height: H, data: image, timestamp: i }
        : kind === 1
          ? { type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: pcm, timestamp: i * 20 }
          : { type: 'data', format: 'bytes', data, timestamp: i };
    const r = await tx.compressFrame(frame, via && kind !== 2 ? { minQualityScore: 0.999 } : undefined);
    const d = await rx.decompressFrame(r.payload);
    if (d.type !== frame.type) unexpected++;
    if (i % 10 === 0) {
      const bad = Buffer.from(r.payload);
      bad[bad.length >> 1] ^= 0x40;
      await expectError(engine.decompressFrame(bad), 'CORRUPT_PAYLOAD');
      await expectError(engine.decompressFrame(r.payload.subarray(0, 20)), 'CORRUPT_PAYLOAD');
    }
    if (i === 7) {
      const out = Buffer.alloc(W * H * 3);
      const p = (await tx.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: image })).payload;
      const pending = engine.decompressFrame(p, { output: out });
      structuredClone(out.buffer, { transfer: [out.buffer] }); // detached while the decode runs
      await expectError(pending, 'INVALID_ARGUMENT');
    }
  }
  if (block % 4 === 0) {
    const big = await engine.imageCodec().encode({ format: 'rgb24', width: 128, height: 128, data: Buffer.alloc(128 * 128 * 3, 90) }, { level: 2 });
    await expectError(engine.decompressFrame(big.payload), 'LIMIT_EXCEEDED');
    const enc = engine.audioCodec().createEncoder(16000, 1);
    const dec = engine.audioCodec().createDecoder();
    const a = await enc.encode({ format: 's16le', data: pcm }, { level: 3 });
    await dec.decode(a.payload);
    engine.info();
  }
  tx.close();
  rx.close();
  await expectError(() => tx.compressFrame({ type: 'data', format: 'bytes', data }), 'CLOSED');
}
await engine.close();
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ frames: done, expectedErrors, unexpected, seconds: +seconds.toFixed(1) }));
if (unexpected) process.exit(1);
