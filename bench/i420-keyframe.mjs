// What an I420 frame costs a keyframe against the same frame given as rgb24: the first frame of
// each evaluation clip (or --clips DIR) at 640x360, coded by the image codec at a few levels in
// both formats, the I420 one from ffmpeg's yuv420p (as x264 and VP8 get it) and decoded back to
// rgb24 by ffmpeg, both scored on PSNR-Y against the rgb24 frame (docs/video-codec.md, "I420 in
// and out"). Needs Debian's ffmpeg.
//
//   node bench/i420-keyframe.mjs [--clips ../shared/data/video] [--levels 0,2,5]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEngine } from '../dist/index.js';
import { arg } from './args.mjs';
import { cameraFrames, psnrY } from './bench-lib.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clipsDir = path.resolve(arg('clips', path.join(root, '..', 'shared', 'data', 'video')));
const levels = String(arg('levels', '0,2,5')).split(',').map(Number);
const W = 640;
const H = 360;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'aic-i420-'));

function convert(from, to, bytes) {
  const file = path.join(tmp, 'in.raw');
  writeFileSync(file, bytes);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', from, '-s', `${W}x${H}`, '-i', file, '-f', 'rawvideo', '-pix_fmt', to, 'pipe:1'], { maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`ffmpeg ${from} -> ${to} failed: ${r.stderr}`);
  return r.stdout;
}

const engine = await createEngine();
try {
  const codec = engine.imageCodec();
  for (const clip of readdirSync(clipsDir).filter((f) => /\.(mp4|mkv|webm|y4m|mov)$/.test(f)).sort()) {
    const frame = cameraFrames(path.join(clipsDir, clip), W, H, 1)?.[0]?.data;
    if (!frame) continue;
    const yuv = convert('rgb24', 'yuv420p', frame);
    console.log(`${clip}: the 4:2:0 round trip alone ${psnrY(frame, convert('yuv420p', 'rgb24', yuv)).toFixed(2)} dB PSNR-Y`);
    for (const level of levels) {
      const a = await codec.encode({ data: frame, width: W, height: H, format: 'rgb24' }, { level });
      const b = await codec.encode({ data: yuv, width: W, height: H, format: 'i420' }, { level });
      const ra = (await codec.decode(a.payload)).data;
      const rb = convert('yuv420p', 'rgb24', (await codec.decode(b.payload)).data);
      console.log(`  level ${level}: rgb24 ${a.payload.length} bytes ${psnrY(frame, ra).toFixed(2)} dB | i420 ${b.payload.length} bytes ${psnrY(frame, rb).toFixed(2)} dB`);
    }
  }
} finally {
  await engine.close();
  rmSync(tmp, { recursive: true, force: true });
}
