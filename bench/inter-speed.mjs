// The speed of predicted frames through the session API, stage by stage: each clip's frames go
// through a sending session with predicted frames (`interFrames: true`, the closed loop at the
// default floor, `maxLatencyMs: Infinity`) and a receiving one; for every P-frame the wall time of
// compressFrame and decompressFrame, the result's native stage timings (preprocess: the planes
// and the motion search; postprocess: the passes, each coded, reconstructed, deblocked and
// scored) and the passes it took; and the process's CPU time per frame beside the wall time (above
// 1x: the frame's work ran on both cores). Medians and p99; eval:video times the same calls
// against x264 and VP8. Prints JSON.
// --format i420 gives the sessions ffmpeg's yuv420p of the same frames (a WebRTC server's input).
//   node bench/inter-speed.mjs [--clips box.mp4,cup.mp4] [--size 640x360] [--frames 60] [--reps 2] [--format rgb24|i420] [--json FILE]
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg } from './args.mjs';
import { cameraFrames } from './bench-lib.mjs';
import { summarize } from './stats.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const aic = await import(path.join(root, 'dist', 'index.js'));
const [width, height] = arg('size', '640x360').split('x').map(Number);
const count = Number(arg('frames', '60'));
const reps = Number(arg('reps', '2'));
const clips = arg('clips', 'box.mp4,cup.mp4').split(',');
const format = arg('format', 'rgb24');
if (format !== 'rgb24' && format !== 'i420') throw new Error(`--format must be rgb24 or i420, got ${format}`);
const engine = await aic.createEngine({ executionProvider: 'cpu' });
const out = {
  command: `node bench/inter-speed.mjs --clips ${clips.join(',')} --size ${width}x${height} --frames ${count} --reps ${reps}${format === 'rgb24' ? '' : ` --format ${format}`}`,
  date: new Date().toISOString(),
  clips: [],
};
for (const clip of clips) {
  const frames = cameraFrames(path.join(root, '..', 'shared', 'data', 'video', clip), width, height, count, format);
  if (!frames) {
    console.error(`inter-speed: ${clip}: not found or not decodable by ffmpeg; skipped`);
    continue;
  }
  const rows = { encodeMs: [], decodeMs: [], preprocessMs: [], postprocessMs: [], passes: [], bytes: [] };
  let cpuMs = 0;
  let wallMs = 0;
  for (let rep = 0; rep < reps; rep++) {
    const tx = engine.openSession({ sessionId: `inter-speed-tx-${clip}-${rep}`, interFrames: true, maxLatencyMs: Infinity });
    const rx = engine.openSession({ sessionId: `inter-speed-rx-${clip}-${rep}`, interFrames: true, maxLatencyMs: Infinity });
    for (const [i, f] of frames.entries()) {
      const c0 = process.cpuUsage();
      let t = performance.now();
      const r = await tx.compressFrame({ ...f, timestamp: Math.round((i * 1e6) / 30) });
      const enc = performance.now() - t;
      t = performance.now();
      await rx.decompressFrame(r.payload);
      const dec = performance.now() - t;
      const c = process.cpuUsage(c0);
      if (r.codec !== 'predicted') continue;
      rows.encodeMs.push(enc);
      rows.decodeMs.push(dec);
      rows.preprocessMs.push(r.timings.preprocessMs);
      rows.postprocessMs.push(r.timings.postprocessMs);
      rows.passes.push(r.passes);
      rows.bytes.push(r.payload.length);
      cpuMs += (c.user + c.system) / 1000;
      wallMs += enc + dec;
    }
    tx.close();
    rx.close();
  }
  const s = (v) => summarize(v);
  out.clips.push({
    clip,
    size: `${width}x${height}`,
    format,
    predictedFrames: rows.encodeMs.length,
    compressFrameMs: s(rows.encodeMs),
    decompressFrameMs: s(rows.decodeMs),
    preprocessMs: s(rows.preprocessMs),
    postprocessMs: s(rows.postprocessMs),
    passesMean: rows.passes.reduce((a, b) => a + b, 0) / rows.passes.length,
    kbps: (rows.bytes.reduce((a, b) => a + b, 0) * 8 * 30) / 1000 / rows.bytes.length,
    cpuOverWall: cpuMs / wallMs,
  });
}
await engine.close();
const json = arg('json', null);
if (json) writeFileSync(json, `${JSON.stringify(out, null, 2)}\n`);
console.log(JSON.stringify(out, null, 2));
