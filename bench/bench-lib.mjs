// Helpers of bench/bench.mjs: timing with tinybench in interleaved rounds, summaries, tables and
// the frames every section shares.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { Bench } from 'tinybench';
import { percentile } from './stats.mjs';

/**
 * PSNR in dB of BT.601 luma (Y = 0.299 R + 0.587 G + 0.114 B, unrounded, full range 0..255) of two
 * interleaved RGB frames, capped at 100: the video evaluation's PSNR-Y, and its tuning scripts'.
 */
export function psnrY(a, b) {
  let se = 0;
  for (let i = 0; i < a.length; i += 3) {
    const d = 0.299 * (a[i] - b[i]) + 0.587 * (a[i + 1] - b[i + 1]) + 0.114 * (a[i + 2] - b[i + 2]);
    se += d * d;
  }
  const mse = se / (a.length / 3);
  return mse === 0 ? 100 : Math.min(100, 10 * Math.log10((255 * 255) / mse));
}

/** mean, p50, p95, p99 (ms) of samples. */
export function describe(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { n: s.length, mean, p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) };
}

/**
 * Times `tasks` ([{ name, fn }], the first the baseline) with tinybench in `rounds` rounds; every
 * round runs each task for `time / rounds` ms in turn, so that drift on a noisy machine hits all
 * tasks alike. Returns each task's latency summary (ms per call) and its ratios to the baseline.
 */
export async function measure(tasks, { time = 1000, rounds = 3, iterations = 5 } = {}) {
  const samples = new Map(tasks.map((t) => [t.name, []]));
  for (let r = 0; r < rounds; r++) {
    const bench = new Bench({
      time: time / rounds,
      iterations: Math.max(1, Math.ceil(iterations / rounds)),
      warmup: r === 0,
      warmupIterations: 2,
      warmupTime: 1,
      retainSamples: true,
      throws: true,
    });
    for (const t of tasks) bench.add(t.name, t.fn);
    await bench.run();
    for (const task of bench.tasks) samples.get(task.name).push(...(task.result.latency.samples ?? []));
  }
  const out = tasks.map((t) => ({ name: t.name, ...describe(samples.get(t.name)) }));
  const base = out[0];
  for (const o of out) {
    o.ratioP50 = o.p50 / base.p50;
    o.ratioMean = o.mean / base.mean;
  }
  return out;
}

const num = (x, d = 2) => (x === null || x === undefined || Number.isNaN(x) ? '-' : typeof x === 'number' ? x.toFixed(d) : String(x));

/** Prints a titled, aligned table; `cols` is [[header, (row) => text]]. Returns the rows as text for the report. */
export function table(title, rows, cols) {
  const cells = rows.map((r) => cols.map(([, f]) => f(r)));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  console.log(`\n## ${title}`);
  console.log(cols.map(([h], i) => h.padEnd(widths[i])).join('  '));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(c.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  '));
  return { title, header: cols.map(([h]) => h), rows: cells };
}

/** The time columns every timing table has. */
export const timeCols = [
  ['mean ms', (r) => num(r.mean)],
  ['p50 ms', (r) => num(r.p50)],
  ['p95 ms', (r) => num(r.p95)],
  ['p99 ms', (r) => num(r.p99)],
  ['n', (r) => String(r.n)],
  ['÷ baseline (p50)', (r) => `${num(r.ratioP50)}x`],
];
export { num };

/** Landscape Kodak photos (768x512), the first `count`, as rgb24 Buffers. */
export async function kodak(dir, count) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort();
  const out = [];
  for (const f of files) {
    if (out.length === count) break;
    const { data, info } = await sharp(path.join(dir, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.width < info.height) continue;
    out.push({ name: f, data, width: info.width, height: info.height });
  }
  return out;
}

/**
 * `count` consecutive frames of a camera clip, scaled to cover width x height and centre-cropped,
 * as rgb24 video frames: what a call sends (each frame close to the last), unlike a set of
 * unrelated photos. Decoded by ffmpeg (Debian's `ffmpeg`); null when it or the clip is missing.
 */
export function cameraFrames(file, width, height, count, format = 'rgb24') {
  if (!existsSync(file)) return null;
  // i420: ffmpeg's yuv420p of the same scaled frames (what x264 and VP8 are given).
  const size = format === 'i420' ? width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2) : width * height * 3;
  const r = spawnSync(
    'ffmpeg',
    ['-v', 'error', '-i', file, '-frames:v', String(count), '-vf', `scale=${width}:${height}:force_original_aspect_ratio=increase,crop=${width}:${height}`, '-f', 'rawvideo', '-pix_fmt', format === 'i420' ? 'yuv420p' : 'rgb24', 'pipe:1'],
    { maxBuffer: size * count + 1024 },
  );
  if (r.error || r.status !== 0) return null;
  const frames = [];
  for (let k = 0; (k + 1) * size <= r.stdout.length; k++) frames.push({ type: 'video', format, width, height, data: r.stdout.subarray(k * size, (k + 1) * size), fps: 30 });
  return frames.length === count ? frames : null;
}

/** A centre crop of width x height (when the photo is large enough), else the photo resized to cover it. */
export async function videoFrame(photo, width, height) {
  const img = sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } });
  const data =
    photo.width >= width && photo.height >= height
      ? await img.extract({ left: (photo.width - width) >> 1, top: (photo.height - height) >> 1, width, height }).raw().toBuffer()
      : await img.resize(width, height, { fit: 'cover' }).raw().toBuffer();
  return { type: 'video', format: 'rgb24', width, height, data, fps: 30 };
}

/**
 * A synthetic screen-share frame: a desktop with a title bar, a side bar of list items, rows of
 * "text" (short dark runs on white, like glyphs), buttons, a chart and one photo thumbnail.
 */
export async function screenFrame(width, height, photo) {
  const d = Buffer.alloc(width * height * 3);
  const rect = (x0, y0, w, h, [r, g, b]) => {
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++)
      for (let x = Math.max(0, x0); x < Math.min(width, x0 + w); x++) {
        const i = (y * width + x) * 3;
        d[i] = r;
        d[i + 1] = g;
        d[i + 2] = b;
      }
  };
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  rect(0, 0, width, height, [246, 247, 249]);
  rect(0, 0, width, 36, [45, 52, 64]); // title bar
  for (let k = 0; k < 3; k++) rect(12 + k * 22, 12, 12, 12, [[237, 106, 94], [245, 191, 79], [97, 197, 84]][k]);
  rect(0, 36, 220, height - 36, [232, 235, 240]); // side bar
  for (let k = 0; k < 14; k++) {
    rect(16, 56 + k * 34, 18, 18, [120 + k * 8, 140, 200 - k * 5]);
    for (let x = 44; x < 44 + 60 + ((k * 37) % 90); x += 7) rect(x, 60 + k * 34, 5, 10, [60, 64, 72]);
  }
  const textBlock = (x0, y0, lines, w) => {
    for (let l = 0; l < lines; l++) {
      let x = x0;
      const end = x0 + w * (0.6 + 0.4 * rnd());
      while (x < end) {
        const word = 3 + Math.floor(rnd() * 8);
        for (let c = 0; c < word && x < end; c++) {
          const gw = 4 + Math.floor(rnd() * 3);
          rect(x, y0 + l * 20 + (rnd() < 0.2 ? -3 : 0), gw, rnd() < 0.2 ? 13 : 10, [30, 33, 40]);
          x += gw + 2;
        }
        x += 8;
      }
    }
  };
  textBlock(250, 60, 6, width - 300);
  for (let k = 0; k < 4; k++) rect(250 + k * 130, 200, 110, 32, k === 0 ? [37, 99, 235] : [255, 255, 255]);
  // a bar chart
  rect(250, 260, 420, 220, [255, 255, 255]);
  for (let k = 0; k < 12; k++) {
    const h = 30 + Math.floor(rnd() * 170);
    rect(265 + k * 33, 470 - h, 22, h, [59 + k * 10, 130, 246 - k * 10]);
  }
  textBlock(700, 260, 10, width - 760);
  // a photo thumbnail
  const tw = Math.min(320, width - 700);
  const th = 180;
  if (photo && tw > 0 && height > 500 + th) {
    const thumb = await sharp(photo.data, { raw: { width: photo.width, height: photo.height, channels: 3 } }).resize(tw, th, { fit: 'cover' }).raw().toBuffer();
    for (let y = 0; y < th; y++) thumb.copy(d, ((500 + y) * width + 700) * 3, y * tw * 3, (y + 1) * tw * 3);
  }
  textBlock(250, 500, 8, 400);
  return { type: 'screen', format: 'rgb24', width, height, data: d, fps: 15 };
}

/** s16le 20 ms frames of a mono signal (wrapping round at its end). */
export function audioFrames(x, rate, count) {
  const n = rate / 50;
  const frames = [];
  const total = Math.floor(x.length / n);
  for (let k = 0; k < Math.min(count, total); k++) {
    const b = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x[k * n + i])) * 32767), i * 2);
    frames.push(b);
  }
  return frames;
}
