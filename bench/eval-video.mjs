// Video evaluation (issue 16 part 6): real camera clips coded by our codec through the session API
// beside x264 and VP8 (Debian's ffmpeg), every codec decoded back to rgb24 and measured the same
// way. This is the measurement the inter-frame (P-frame) work is judged by: today every one of our
// frames is intra-coded.
//
//   npm run eval:video -- [--clips DIR] [--frames N] [--fps F] [--sizes 640x360,1280x720]
//                         [--large-clips box.mp4] [--json OUT.json] [--plot OUT.svg] [--quick]
//
// What is coded (docs/video-codec.md has the full definitions):
// - each clip (*.mp4, *.mkv, *.webm, *.y4m in --clips, default ../shared/data/video) is decoded by
//   ffmpeg, its first N frames (default 60) scaled to cover each size and centre-cropped
//   (bench-lib.mjs cameraFrames); the frames are taken as they come and played at --fps (default
//   30) for every bitrate;
// - aic-intra: the session engine's image codec at each level (ImageCodec.encode, every frame
//   a keyframe), each payload decoded by a receiving session's decompressFrame();
// - aic-session: intra-only sessions, `openSession({ mode, maxLatencyMs: Infinity, interFrames: false })`
//   for aggressive, adaptive (the default operating point) and conservative: compressFrame() on a
//   sending session, decompressFrame() on a receiving one (the closed loop picks the level, or JPEG);
// - aic-inter: sessions with predicted frames (the default), `openSession({ interFrames: true, minQualityScore })`
//   over a sweep of floors (--inter-floors): a keyframe, then P-frames against the reference both
//   sides hold; P-frame and keyframe times apart (median, p99), and P-frame speed against x264's;
// - aic-inter-i420: the same sweep (its own floors, --inter-i420-floors) given I420 frames
//   (ffmpeg's yuv420p of the frames, as x264 and VP8 get them), decoded as I420 and converted
//   back to rgb24 by ffmpeg, as theirs are;
// - x264: -preset veryfast -tune zerolatency, a CRF sweep; x264-intra: the same with keyint=1 (the
//   intra-only reference); x264-keyintK: an IDR every K frames (what periodic keyframes cost);
// - vp8: libvpx -deadline realtime -cpu-used -6 -lag-in-frames 0, one thread, a bitrate sweep (-b:v);
// - yuv420p: the rgb24 -> yuv420p -> rgb24 round trip alone, the ceiling of x264 and VP8 here.
// Measures per frame, averaged over the frames: PSNR-Y (BT.601 luma of both RGB frames), PSNR-RGB,
// SSIM and MS-SSIM (the library's imageQuality: native/core/image/metrics.h). Rate: bytes x fps.
// Loss: a lost payload costs our intra-only coding that frame alone; our predicted chain, x264 and
// VP8 freeze until a keyframe (ours: the receiver refuses P-frames with REFERENCE_MISSING), with
// keyframe requests (and for x264/VP8 without, and with periodic IDRs), simulated below.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg } from './args.mjs';
import { bdRate } from './bdrate.mjs';
import { cameraFrames, psnrY } from './bench-lib.mjs';
import { writeVideoPlots } from './video-plots.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const quick = process.argv.includes('--quick');
const clipsDir = path.resolve(arg('clips', path.join(root, '..', 'shared', 'data', 'video')));
const frameCount = Number(arg('frames', quick ? 3 : 60));
// Frames per clip at sizes of more than 640x360 pixels (default: --frames).
const largeFrames = Number(arg('large-frames', frameCount));
const fps = Number(arg('fps', 30));
const sizes = String(arg('sizes', '640x360'))
  .split(',')
  .filter(Boolean)
  .map((s) => {
    const m = /^(\d+)x(\d+)$/.exec(s.trim());
    if (!m || Number(m[1]) % 2 || Number(m[2]) % 2) throw new Error(`eval-video: --sizes takes even WxH, got '${s}'`);
    return { width: Number(m[1]), height: Number(m[2]) };
  });
// Sizes of more than 640x360 pixels are coded only for these clips (comma-separated names; default all).
const largeClips = arg('large-clips') ? String(arg('large-clips')).split(',') : null;
const jsonOut = arg('json');
const plotOut = arg('plot');
const threads = Number(arg('threads', os.cpus().length));
const limitClips = Number(arg('limit', 0));

const CRFS = quick ? [22, 30, 38] : [16, 20, 24, 28, 32, 36, 40];
// VP8's -b:v targets (kbit/s): by default the rates x264's CRF sweep reached on the same frames,
// so that both sweep the same range (a fixed list overshoots what a soft 720p clip can use, where
// libvpx's rate control stops following its target).
const VP8_KBPS = arg('vp8-kbps') ? String(arg('vp8-kbps')).split(',').map(Number) : null;
const KEYINTS = String(arg('keyints', '10,30')).split(',').filter(Boolean).map(Number);
const SESSION_MODES = quick ? ['adaptive'] : ['aggressive', 'adaptive', 'conservative'];
// The floors (minQualityScore) of the predicted-frame sessions: the rate knob of their curve.
const INTER_FLOORS = String(arg('inter-floors', quick ? '0.85' : '0.7,0.78,0.85,0.9,0.94,0.97')).split(',').filter(Boolean).map(Number);
// The I420 sweep's floors: its score (Y, U, V 6:1:1) runs higher than the rgb24 one for the same
// picture (chroma is smooth), so its floors sit higher to span the same rates.
const INTER_I420_FLOORS = String(arg('inter-i420-floors', quick ? '0.85' : '0.85,0.9,0.95,0.97,0.98,0.985')).split(',').filter(Boolean).map(Number);
const INTER_LOSS_FLOOR = Number(arg('inter-loss-floor', 0.85));
const LOSS_PERCENT = String(arg('loss', '1,5')).split(',').filter(Boolean).map(Number);
const LOSS_TRIALS = Number(arg('loss-trials', quick ? 1 : 4));
// Frames between a loss and the keyframe that answers its request (about one RTT plus a frame).
const RTT_FRAMES = Number(arg('rtt-frames', 3));
// References the recovering sender keeps (recoveryReferences): more than the report's delay.
const RECOVERY_REFERENCES = Number(arg('recovery-references', 8));
const LOSS_CRF = Number(arg('loss-crf', 28));
// Negative: a fixed speed (as WebRTC sets it); a positive value makes libvpx adapt its speed to the
// wall clock, so that the same command codes differently on a busy machine.
const VP8_CPU_USED = Number(arg('vp8-cpu-used', -6));
// libvpx's worker threads spin-wait on each other: on a shared 2-core machine two of them burned
// up to 10x the CPU time of one for the same bitstream. WebRTC gives VP8 one thread below 3 cores.
const VP8_THREADS = Number(arg('vp8-threads', 1));

const have = (tool) => spawnSync(tool, ['-hide_banner', '-version'], { encoding: 'utf8' }).status === 0;
if (!have('ffmpeg') || !have('ffprobe')) {
  console.error('eval-video: ffmpeg and ffprobe are needed (Debian: apt-get install ffmpeg)');
  process.exit(2);
}
const clips = readdirSync(clipsDir)
  .filter((f) => /\.(mp4|mkv|webm|y4m|mov)$/i.test(f))
  .sort()
  .slice(0, limitClips || undefined);
if (clips.length === 0) {
  console.error(`eval-video: no clips in ${clipsDir}`);
  process.exit(1);
}

const aic = await import(path.join(root, 'dist', 'index.js'));
const engine = await aic.createEngine({ executionProvider: 'cpu' });
const codec = engine.imageCodec();
if (!codec) throw new Error(`eval-video: the engine has no image codec (${engine.info().unavailable.image})`);
const LEVELS = quick ? [0, Math.floor(codec.levels / 2), codec.levels - 1] : Array.from({ length: codec.levels }, (_, i) => i);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'aic-eval-video-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

// ---------------------------------------------------------------------------------------------
// Measurement, the same for every codec: the decoded rgb24 frame against the original.

function measureFrame(orig, recon, width, height) {
  const q = aic.imageQuality(orig, recon, width, height);
  return { psnrY: psnrY(orig, recon), psnrRgb: q.psnr, ssim: q.ssim, msssim: q.msssim };
}

// Many streams decode to the very same frames (x264 with and without keyint=infinite before the
// first difference, a keyframe request's stream up to the request, the session at a level the
// level sweep also coded): the metrics of frame k are remembered by a hash of the decoded frame.
let metricsCache = new Map();
function measureIndexed(frames, k, recon, width, height) {
  const key = `${k}:${createHash('sha1').update(recon).digest('base64')}`;
  let m = metricsCache.get(key);
  if (!m) {
    m = measureFrame(frames[k].data, recon, width, height);
    metricsCache.set(key, m);
  }
  return m;
}

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] : NaN;
};
/** SSIM on a dB scale (-10 log10(1 - SSIM)), the scale BD-rate fits on. */
const ssimDb = (s) => -10 * Math.log10(Math.max(1e-10, 1 - s));

/** A rate point from per-frame bytes and per-frame metrics (arithmetic means over frames). */
function point(setting, frameBytes, metrics, width, height, extra = {}) {
  const bytes = frameBytes.reduce((a, b) => a + b, 0);
  const n = frameBytes.length;
  const ssim = mean(metrics.map((m) => m.ssim));
  return {
    setting,
    bytes,
    kbps: (bytes * 8 * fps) / n / 1000,
    bpp: (bytes * 8) / n / (width * height),
    psnrY: mean(metrics.map((m) => m.psnrY)),
    psnrRgb: mean(metrics.map((m) => m.psnrRgb)),
    ssim,
    ssimDb: mean(metrics.map((m) => ssimDb(m.ssim))),
    msssim: mean(metrics.map((m) => m.msssim)),
    ...extra,
  };
}

// ---------------------------------------------------------------------------------------------
// Loss: which frames a receiver shows. A receiver shows a frame only when it can decode it
// correctly; otherwise it keeps showing the last frame it showed (a freeze, as WebRTC's receivers
// do rather than show a corrupt picture). Ours: every payload decodes alone. x264/VP8: a frame
// decodes when it and every frame since the last keyframe arrived. Frame 0 always arrives.

/**
 * A curve for BD-rate: its points by rate, keeping only those of higher quality than every point
 * at a lower rate (a point that costs more and gives less, as libvpx gives where its rate control
 * stops following the target, or the session's modes where two serve the same level, would make
 * the fit fold back on itself).
 */
function rq(points, key) {
  const out = [];
  for (const p of [...points].sort((a, b) => a.kbps - b.kbps)) if (!out.length || p[key] > out[out.length - 1].quality) out.push({ rate: p.kbps, quality: p[key] });
  return out;
}

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Loss patterns: for each rate, LOSS_TRIALS sets of max(1, round(p N)) lost frames among 1..N-1. */
function lossPatterns(n) {
  const out = [];
  for (const p of LOSS_PERCENT) {
    const k = Math.min(n - 1, Math.max(1, Math.round((p / 100) * n)));
    for (let t = 0; t < LOSS_TRIALS; t++) {
      const rnd = mulberry32(1000 * p + t + 1);
      const lost = new Set();
      while (lost.size < k) lost.add(1 + Math.floor(rnd() * (n - 1)));
      out.push({ percent: p, trial: t, lost: [...lost].sort((a, b) => a - b) });
    }
  }
  return out;
}

/** The frames a sender makes keyframes when the receiver asks for one on every loss: the IDR goes RTT_FRAMES frames after the loss (a lost IDR is asked for again). */
function requestedKeyframes(n, lost) {
  const lostSet = new Set(lost);
  const forced = [];
  let pending = null;
  for (let f = 0; f < n; f++) {
    if (pending === f) {
      forced.push(f);
      pending = null;
    }
    if (lostSet.has(f) && pending === null) pending = f + RTT_FRAMES;
  }
  return forced;
}

/** For each frame, the index of the frame shown (or the same frame): intra-only, or a chain from keyframes. */
function shownFrames(n, lost, keyframes) {
  const lostSet = new Set(lost);
  const keys = new Set(keyframes);
  const shown = [];
  let chainOk = true;
  let last = 0;
  for (let f = 0; f < n; f++) {
    if (keyframes === null) chainOk = !lostSet.has(f);
    else if (keys.has(f)) chainOk = !lostSet.has(f);
    else chainOk = chainOk && !lostSet.has(f);
    if (chainOk) last = f;
    shown.push(last);
  }
  return shown;
}

/** Metrics of what the receiver shows, from decoded frames and per-frame metrics already taken. */
function shownQuality(frames, decoded, metrics, shown, width, height) {
  const ms = shown.map((s, f) => (s === f ? metrics[f] : measureIndexed(frames, f, decoded[s], width, height)));
  const frozen = shown.filter((s, f) => s !== f).length;
  return {
    frozenFrames: frozen,
    frozenFraction: frozen / shown.length,
    psnrY: mean(ms.map((m) => m.psnrY)),
    ssim: mean(ms.map((m) => m.ssim)),
    // the same stream with nothing lost
    cleanPsnrY: mean(metrics.map((m) => m.psnrY)),
    cleanSsim: mean(metrics.map((m) => m.ssim)),
  };
}

// ---------------------------------------------------------------------------------------------
// ffmpeg codecs: raw rgb24 frames in, a bitstream out (bytes per packet from ffprobe), decoded back
// to rgb24. Wall time of each process; the start cost of a zero-frame run of the same command is
// measured once per size and codec and subtracted for the per-frame figures.

function ffmpeg(args, maxBuffer = 1 << 20) {
  const t0 = performance.now();
  const r = spawnSync('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', ...args], { maxBuffer });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')} failed: ${r.stderr?.toString().slice(-2000)}`);
  return { ms, stdout: r.stdout };
}

function packets(file) {
  const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'packet=size,flags', '-of', 'csv=p=0', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ffprobe ${file} failed: ${r.stderr}`);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [size, flags] = line.split(',');
      return { size: Number(size), key: flags.includes('K') };
    });
}

const rawInput = (raw, width, height) => ['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(fps), '-i', raw];

const x264Args = (crf, params, forced) => [
  '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-crf', String(crf),
  ...(params ? ['-x264-params', params] : []),
  ...(forced?.length ? ['-force_key_frames', `expr:${forced.map((f) => `eq(n,${f})`).join('+')}`] : []),
  '-pix_fmt', 'yuv420p', '-threads', String(threads), '-f', 'h264',
];
const vp8Args = (kbps, forced) => [
  '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', String(VP8_CPU_USED), '-lag-in-frames', '0',
  '-b:v', `${Math.round(kbps)}k`, '-qmin', '0', '-qmax', '63', '-g', '3000',
  ...(forced?.length ? ['-force_key_frames', `expr:${forced.map((f) => `eq(n,${f})`).join('+')}`] : []),
  '-pix_fmt', 'yuv420p', '-threads', String(VP8_THREADS), '-f', 'ivf',
];

/** Start cost (ms) of an encoder command: the median of three zero-frame runs. */
function startCost(raw, width, height, codecArgs) {
  const out = path.join(tmp, 'zero.bin');
  return median([0, 1, 2].map(() => ffmpeg([...rawInput(raw, width, height), '-frames:v', '0', ...codecArgs, '-y', out]).ms));
}
const decodeThreads = (file) => String(file.endsWith('.ivf') ? VP8_THREADS : threads);
function decodeStartCost(file) {
  return median([0, 1, 2].map(() => ffmpeg(['-threads', decodeThreads(file), '-i', file, '-frames:v', '0', '-f', 'null', '-']).ms));
}

/** Encodes the raw frames with `codecArgs`, decodes them back; per-frame sizes, key flags, decoded frames, times. */
function codeWithFfmpeg(raw, frames, width, height, codecArgs, ext) {
  const n = frames.length;
  const file = path.join(tmp, `stream.${ext}`);
  const enc = ffmpeg([...rawInput(raw, width, height), '-frames:v', String(n), ...codecArgs, '-y', file]);
  const pk = packets(file);
  const size = width * height * 3;
  const dec = ffmpeg(['-threads', decodeThreads(file), '-i', file, '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], size * n + (1 << 20));
  if (pk.length !== n || dec.stdout.length !== size * n) throw new Error(`ffmpeg ${ext}: ${pk.length} packets, ${dec.stdout.length / size} frames decoded, ${n} expected`);
  const decoded = Array.from({ length: n }, (_, k) => dec.stdout.subarray(k * size, (k + 1) * size));
  return { file, packets: pk, decoded, encodeMs: enc.ms, decodeMs: dec.ms, fileBytes: statSync(file).size };
}

// ---------------------------------------------------------------------------------------------

const fmt = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
const runs = [];
const started = Date.now();
const log = (s) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

for (const clip of clips) {
  for (const { width, height } of sizes) {
    if (width * height > 640 * 360 && largeClips && !largeClips.includes(clip)) continue;
    const want = width * height > 640 * 360 ? largeFrames : frameCount;
    const frames = cameraFrames(path.join(clipsDir, clip), width, height, want);
    metricsCache = new Map();
    if (!frames) {
      console.error(`eval-video: could not decode ${want} frames of ${clip} at ${width}x${height}`);
      process.exit(1);
    }
    const n = frames.length;
    log(`${clip} ${width}x${height}: ${n} frames`);
    const raw = path.join(tmp, 'frames.rgb');
    writeFileSync(raw, Buffer.concat(frames.map((f) => f.data)));
    const patterns = lossPatterns(n);
    const run = { clip, width, height, frames: n, fps, codecs: {}, loss: null, keyframes: null, bdRate: {} };
    const lossRows = [];

    // Our codec: each level, every frame intra, through the engine's codec; decoded by a receiving session.
    const rx = engine.openSession({ sessionId: `eval-rx-${clip}-${width}x${height}` });
    {
      const warm = await codec.encode({ data: frames[0].data, width, height, format: 'rgb24' }, { level: LEVELS[0] });
      await rx.decompressFrame(warm.payload);
    }
    run.codecs['aic-intra'] = [];
    for (const level of LEVELS) {
      const bytes = [];
      const metrics = [];
      const encMs = [];
      const decMs = [];
      const decoded = [];
      for (const [i, f] of frames.entries()) {
        let t0 = performance.now();
        const enc = await codec.encode({ data: f.data, width, height, format: 'rgb24' }, { level, sequence: i, keyframe: true, frameType: 'video', timestamp: Math.round((i * 1e6) / fps) });
        encMs.push(performance.now() - t0);
        t0 = performance.now();
        const dec = await rx.decompressFrame(enc.payload);
        decMs.push(performance.now() - t0);
        bytes.push(enc.payload.length);
        metrics.push(measureIndexed(frames, i, dec.data, width, height));
        decoded.push(dec.data);
      }
      run.codecs['aic-intra'].push(point(`level ${level}`, bytes, metrics, width, height, { level, encodeMsPerFrame: mean(encMs), decodeMsPerFrame: mean(decMs), keyframes: n }));
      for (const pat of patterns) lossRows.push({ codec: 'aic-intra', setting: `level ${level}`, ...pat, extraBytes: 0, ...shownQuality(frames, decoded, metrics, shownFrames(n, pat.lost, null), width, height) });
    }
    log(`  aic-intra: ${LEVELS.length} levels`);

    // Sessions as a server runs them: the closed loop picks level or conventional codec per frame.
    run.codecs['aic-session'] = [];
    for (const mode of SESSION_MODES) {
      const tx = engine.openSession({ sessionId: `eval-tx-${clip}-${width}x${height}-${mode}`, mode, maxLatencyMs: Infinity, interFrames: false });
      const bytes = [];
      const metrics = [];
      const encMs = [];
      const decMs = [];
      const decoded = [];
      const carriedBy = {};
      const levels = [];
      let passes = 0;
      for (const [i, f] of frames.entries()) {
        let t0 = performance.now();
        const r = await tx.compressFrame({ ...f, timestamp: Math.round((i * 1e6) / fps) });
        encMs.push(performance.now() - t0);
        t0 = performance.now();
        const dec = await rx.decompressFrame(r.payload);
        decMs.push(performance.now() - t0);
        bytes.push(r.payload.length);
        metrics.push(measureIndexed(frames, i, dec.data, width, height));
        decoded.push(dec.data);
        carriedBy[r.codec] = (carriedBy[r.codec] ?? 0) + 1;
        if (r.codec === 'neural-image') levels.push(r.qualityLevel);
        passes += r.passes;
      }
      const s = tx.stats();
      tx.close();
      run.codecs['aic-session'].push(
        point(mode, bytes, metrics, width, height, {
          mode,
          minQualityScore: aic.MODE_DEFAULTS[mode].minQualityScore,
          encodeMsPerFrame: mean(encMs),
          decodeMsPerFrame: mean(decMs),
          keyframes: n,
          carriedBy,
          meanNeuralLevel: levels.length ? mean(levels) : null,
          passesPerFrame: passes / n,
          framesFallback: s.framesFallback,
          framesQualityNotMet: s.framesQualityNotMet,
        }),
      );
      for (const pat of patterns) lossRows.push({ codec: 'aic-session', setting: mode, ...pat, extraBytes: 0, ...shownQuality(frames, decoded, metrics, shownFrames(n, pat.lost, null), width, height) });
    }
    rx.close();
    log(`  aic-session: ${SESSION_MODES.join(', ')}`);

    // Predicted frames: sessions with interFrames, a sweep of the floor (minQualityScore) as the
    // rate knob. Each setting codes the clip as one chain from its own keyframe, decoded by a
    // receiving session of its own; P-frame times are kept apart from keyframes' (median, p99).
    //
    // `aic-inter-i420` is the same sweep fed I420 (the frames as ffmpeg converts them for x264 and
    // VP8), decoded as I420 and converted back to rgb24 by ffmpeg as theirs are: the input a
    // WebRTC pipeline hands a server. Its floor is on the I420 score (Y, U, V 6:1:1), so its
    // points sit at other rates than the rgb24 sweep's; the curves compare.
    const interSession = (floor, sessionTag, extra = {}) =>
      engine.openSession({ sessionId: `eval-inter-${sessionTag}-${clip}-${width}x${height}-${floor}`, mode: 'adaptive', minQualityScore: floor, interFrames: true, maxLatencyMs: Infinity, ...extra });
    const i420Size = width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
    const i420Frames = (() => {
      const t = ffmpeg([...rawInput(raw, width, height), '-frames:v', String(n), '-f', 'rawvideo', '-pix_fmt', 'yuv420p', 'pipe:1'], i420Size * n + (1 << 20));
      return frames.map((f, k) => ({ ...f, format: 'i420', data: t.stdout.subarray(k * i420Size, (k + 1) * i420Size) }));
    })();
    const i420ToRgb = (decoded) => {
      const file = path.join(tmp, 'decoded.yuv');
      writeFileSync(file, Buffer.concat(decoded));
      const t = ffmpeg(['-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-s', `${width}x${height}`, '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], width * height * 3 * n + (1 << 20));
      return decoded.map((_, k) => t.stdout.subarray(k * width * height * 3, (k + 1) * width * height * 3));
    };
    const interSweep = async (name, floors, input, toRgb) => {
      run.codecs[name] = [];
      const sweep = new Map();
      for (const floor of floors) sweep.set(floor, await interPoint(name, floor, input, toRgb));
      log(`  ${name}: floors ${floors.join(', ')}`);
      return sweep;
    };
    const interPoint = async (name, floor, input, toRgb) => {
      const tx = interSession(floor, `${name}-tx`);
      const irx = interSession(floor, `${name}-rx`);
      const bytes = [];
      const metrics = [];
      const decoded = [];
      const carriedBy = {};
      const pEnc = [];
      const pDec = [];
      const kEnc = [];
      const kDec = [];
      const pBytes = [];
      const kBytes = [];
      const qps = [];
      for (const [i, f] of input.entries()) {
        let t0 = performance.now();
        const r = await tx.compressFrame({ ...f, timestamp: Math.round((i * 1e6) / fps) });
        const enc = performance.now() - t0;
        t0 = performance.now();
        const dec = await irx.decompressFrame(r.payload);
        const decMs = performance.now() - t0;
        const predicted = r.codec === 'predicted';
        (predicted ? pEnc : kEnc).push(enc);
        (predicted ? pDec : kDec).push(decMs);
        (predicted ? pBytes : kBytes).push(r.payload.length);
        if (predicted) qps.push(r.qualityLevel);
        bytes.push(r.payload.length);
        decoded.push(dec.data);
        carriedBy[r.codec] = (carriedBy[r.codec] ?? 0) + 1;
      }
      const shownRgb = toRgb ? toRgb(decoded) : decoded;
      for (const [i, d] of shownRgb.entries()) metrics.push(measureIndexed(frames, i, d, width, height));
      const st = tx.stats();
      tx.close();
      irx.close();
      const pt = point(`floor ${floor}`, bytes, metrics, width, height, {
        minQualityScore: floor,
        encodeMsPerFrame: mean([...pEnc, ...kEnc]),
        decodeMsPerFrame: mean([...pDec, ...kDec]),
        keyframes: kEnc.length,
        carriedBy,
        predictedFrames: pEnc.length,
        meanQp: qps.length ? mean(qps) : null,
        pFrame: { encodeMsMedian: median(pEnc), encodeMsP99: quantile(pEnc, 0.99), decodeMsMedian: median(pDec), decodeMsP99: quantile(pDec, 0.99), meanBytes: mean(pBytes) },
        keyframe: { encodeMsMedian: median(kEnc), decodeMsMedian: median(kDec), meanBytes: mean(kBytes) },
        sceneChanges: st.video.sceneChanges,
        referenceBytes: st.video.referenceBytes,
      });
      run.codecs[name].push(pt);
      return { bytes, metrics, decoded, pt };
    };
    const interClean = await interSweep('aic-inter', INTER_FLOORS, frames, null);
    await interSweep('aic-inter-i420', INTER_I420_FLOORS, i420Frames, i420ToRgb);

    // Loss on the predicted chain: a lost payload is not delivered; the receiver refuses the
    // predicted frames after it (REFERENCE_MISSING) and shows its last frame until the keyframe
    // its request brings (the sender's requestKeyframe() RTT_FRAMES frames after the loss).
    const lossFloor = INTER_FLOORS.includes(INTER_LOSS_FLOOR) ? INTER_LOSS_FLOOR : INTER_FLOORS[Math.floor(INTER_FLOORS.length / 2)];
    const clean = interClean.get(lossFloor);
    const interIdr = [];
    const interRecovery = [];
    // Two answers to the receiver's report, RTT_FRAMES after the loss: a keyframe
    // (requestKeyframe()), or a predicted frame against the frame the receiver still holds
    // (requestRecovery(rx.heldReference()), the sender keeping RECOVERY_REFERENCES references).
    for (const recoveryMode of ['keyframe', 'reference']) {
      for (const pat of patterns) {
        const lostSet = new Set(pat.lost);
        const forced = new Set(requestedKeyframes(n, pat.lost));
        const byReference = recoveryMode === 'reference';
        const tx = interSession(lossFloor, `loss-tx-${recoveryMode}-${pat.percent}-${pat.trial}`, byReference ? { recoveryReferences: RECOVERY_REFERENCES } : {});
        const irx = interSession(lossFloor, `loss-rx-${recoveryMode}-${pat.percent}-${pat.trial}`);
        const decoded = [];
        const metrics = [];
        const shown = [];
        const payloadSizes = [];
        let last = 0;
        let refused = 0;
        for (const [i, f] of frames.entries()) {
          if (forced.has(i)) {
            const held = irx.heldReference();
            if (byReference && held !== null) tx.requestRecovery(held);
            else tx.requestKeyframe();
          }
          const r = await tx.compressFrame({ ...f, timestamp: Math.round((i * 1e6) / fps) });
          payloadSizes.push(r.payload.length);
          if (forced.has(i)) (byReference ? interRecovery : interIdr).push({ frame: i, keyframeBytes: r.payload.length, replacedBytes: clean.bytes[i], codec: r.codec });
          let dec = null;
          if (!lostSet.has(i)) {
            try {
              dec = await irx.decompressFrame(r.payload);
            } catch (error) {
              if (error?.code !== 'REFERENCE_MISSING') throw error;
              refused++;
            }
          }
          decoded.push(dec ? dec.data : null);
          metrics.push(dec ? measureIndexed(frames, i, dec.data, width, height) : null);
          if (dec) last = i;
          shown.push(last);
        }
        tx.close();
        irx.close();
        const ms = shown.map((sIdx, f) => (sIdx === f ? metrics[f] : measureIndexed(frames, f, decoded[sIdx], width, height)));
        const frozen = shown.filter((sIdx, f) => sIdx !== f).length;
        lossRows.push({
          codec: 'aic-inter',
          setting: `floor ${lossFloor}`,
          recovery: byReference ? `predicted from the receiver's reference (${RTT_FRAMES} frames later, ${RECOVERY_REFERENCES} kept)` : `keyframe request (${RTT_FRAMES} frames later)`,
          ...pat,
          keyframesSent: [...forced],
          extraBytes: payloadSizes.reduce((a, b) => a + b, 0) - clean.bytes.reduce((a, b) => a + b, 0),
          refusedReferenceMissing: refused,
          frozenFrames: frozen,
          frozenFraction: frozen / n,
          psnrY: mean(ms.map((m) => m.psnrY)),
          ssim: mean(ms.map((m) => m.ssim)),
          cleanPsnrY: mean(clean.metrics.map((m) => m.psnrY)),
          cleanSsim: mean(clean.metrics.map((m) => m.ssim)),
        });
      }
    }
    log(`  aic-inter: loss at floor ${lossFloor}`);

    // ffmpeg codecs.
    const starts = {};
    // Codes every setting; returns the coded streams of the settings `keep` names (decoded frames held).
    const ffSeries = (name, settings, argsOf, ext, extraOf = () => ({}), keep = []) => {
      starts[name] = { encodeMs: startCost(raw, width, height, argsOf(settings[0])) };
      run.codecs[name] = [];
      const kept = new Map();
      for (const s of settings) {
        const c = codeWithFfmpeg(raw, frames, width, height, argsOf(s), ext);
        if (starts[name].decodeMs === undefined) starts[name].decodeMs = decodeStartCost(c.file);
        const metrics = c.decoded.map((d, k) => measureIndexed(frames, k, d, width, height));
        run.codecs[name].push(
          point(typeof s === 'number' ? s : String(s), c.packets.map((p) => p.size), metrics, width, height, {
            ...extraOf(s),
            encodeMsPerFrame: Math.max(0, c.encodeMs - starts[name].encodeMs) / n,
            decodeMsPerFrame: Math.max(0, c.decodeMs - starts[name].decodeMs) / n,
            encodeWallMs: c.encodeMs,
            decodeWallMs: c.decodeMs,
            keyframes: c.packets.filter((p) => p.key).length,
          }),
        );
        if (keep.includes(s)) kept.set(s, { ...c, metrics });
      }
      return kept;
    };
    const crfLabel = (c) => `crf ${c}`;
    const lossCrf = CRFS.includes(LOSS_CRF) ? LOSS_CRF : CRFS[Math.floor(CRFS.length / 2)];
    ffSeries('x264', CRFS, (c) => x264Args(c), '264', (c) => ({ setting: crfLabel(c), crf: c }));
    ffSeries('x264-intra', CRFS, (c) => x264Args(c, 'keyint=1'), '264', (c) => ({ setting: crfLabel(c), crf: c }));
    const noKeys = ffSeries('x264-nokey', CRFS, (c) => x264Args(c, 'keyint=infinite:scenecut=0'), '264', (c) => ({ setting: crfLabel(c), crf: c }), [lossCrf]);
    for (const k of KEYINTS) ffSeries(`x264-keyint${k}`, CRFS, (c) => x264Args(c, `keyint=${k}:min-keyint=${k}:scenecut=0`), '264', (c) => ({ setting: crfLabel(c), crf: c, keyint: k }));
    const x264Kbps = run.codecs.x264.map((p) => Math.max(1, Math.round(p.kbps)));
    const vp8Kbps = [...new Set(VP8_KBPS ?? x264Kbps)].sort((a, b) => a - b);
    // The loss section's VP8 stream: at the rate of x264's at the loss CRF.
    const lossVp8 = VP8_KBPS ? vp8Kbps[Math.floor(vp8Kbps.length / 2)] : x264Kbps[CRFS.indexOf(lossCrf)];
    const vp8 = ffSeries('vp8', vp8Kbps, (k) => vp8Args(k), 'ivf', (k) => ({ setting: `${Math.round(k)} kbit/s target`, targetKbps: Math.round(k) }), [lossVp8]);
    {
      // The colour conversion alone: what x264 and VP8 could reach at no loss of their own.
      const t = ffmpeg([...rawInput(raw, width, height), '-frames:v', String(n), '-vf', 'format=yuv420p', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], width * height * 3 * n + (1 << 20));
      const size = width * height * 3;
      const metrics = frames.map((f, k) => measureFrame(f.data, t.stdout.subarray(k * size, (k + 1) * size), width, height));
      run.yuv420pRoundTrip = { psnrY: mean(metrics.map((m) => m.psnrY)), psnrRgb: mean(metrics.map((m) => m.psnrRgb)), ssim: mean(metrics.map((m) => m.ssim)) };
    }
    run.ffmpegStartMs = starts;
    log(`  x264, x264-intra, x264 keyint ${KEYINTS.join('/')}, vp8`);

    // Loss and keyframe requests for x264 (at LOSS_CRF) and VP8 (at the same rate): no keyframes
    // after the first (freeze to the end), a keyframe on every request, and periodic keyframes.
    const refs = [
      { codec: 'x264', setting: crfLabel(lossCrf), base: noKeys.get(lossCrf), argsOf: (forced) => x264Args(lossCrf, 'keyint=infinite:scenecut=0', forced), ext: '264' },
      { codec: 'vp8', setting: `${Math.round(lossVp8)} kbit/s target`, base: vp8.get(lossVp8), argsOf: (forced) => vp8Args(lossVp8, forced), ext: 'ivf' },
    ];
    const idrCosts = [];
    for (const ref of refs) {
      const baseKeys = ref.base.packets.flatMap((p, k) => (p.key ? [k] : []));
      const baseBytes = ref.base.packets.reduce((a, p) => a + p.size, 0);
      for (const pat of patterns) {
        lossRows.push({ codec: ref.codec, setting: ref.setting, recovery: 'none', ...pat, extraBytes: 0, ...shownQuality(frames, ref.base.decoded, ref.base.metrics, shownFrames(n, pat.lost, baseKeys), width, height) });
        const forced = requestedKeyframes(n, pat.lost);
        if (forced.length === 0) continue;
        const c = codeWithFfmpeg(raw, frames, width, height, ref.argsOf(forced), ref.ext);
        const keys = c.packets.flatMap((p, k) => (p.key ? [k] : []));
        const metrics = c.decoded.map((d, k) => measureIndexed(frames, k, d, width, height));
        const bytes = c.packets.reduce((a, p) => a + p.size, 0);
        lossRows.push({ codec: ref.codec, setting: ref.setting, recovery: `keyframe request (${RTT_FRAMES} frames later)`, ...pat, keyframesSent: forced, extraBytes: bytes - baseBytes, ...shownQuality(frames, c.decoded, metrics, shownFrames(n, pat.lost, keys), width, height) });
        const pSizes = ref.base.packets.filter((p) => !p.key).map((p) => p.size);
        for (const f of forced) idrCosts.push({ codec: ref.codec, setting: ref.setting, frame: f, keyframeBytes: c.packets[f].size, replacedBytes: ref.base.packets[f].size, meanInterBytes: mean(pSizes), streamExtraBytes: bytes - baseBytes, forcedInStream: forced.length });
      }
    }
    for (const k of KEYINTS) {
      const series = `x264-keyint${k}`;
      // Re-code at the loss CRF (the series kept only its points): a freeze lasts until the next periodic IDR.
      const c = codeWithFfmpeg(raw, frames, width, height, x264Args(lossCrf, `keyint=${k}:min-keyint=${k}:scenecut=0`), '264');
      const keys = c.packets.flatMap((p, j) => (p.key ? [j] : []));
      const metrics = c.decoded.map((d, j) => measureIndexed(frames, j, d, width, height));
      const baseBytes = refs[0].base.packets.reduce((a, p) => a + p.size, 0);
      const bytes = c.packets.reduce((a, p) => a + p.size, 0);
      for (const pat of patterns) lossRows.push({ codec: 'x264', setting: crfLabel(lossCrf), recovery: `periodic IDR every ${k} (${series})`, ...pat, extraBytes: bytes - baseBytes, ...shownQuality(frames, c.decoded, metrics, shownFrames(n, pat.lost, keys), width, height) });
    }
    // Summaries over the trials: per codec, setting, recovery and loss rate.
    const groups = new Map();
    for (const r of lossRows) {
      const key = `${r.codec}|${r.setting}|${r.recovery ?? 'none'}|${r.percent}`;
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(r);
    }
    run.loss = {
      model: `a lost payload is not shown; the receiver shows the last frame it could decode (a freeze). x264/VP8 decode a frame only when it and every frame since the last keyframe arrived; a keyframe request makes frame loss+${RTT_FRAMES} an IDR. ${LOSS_TRIALS} trials per loss rate, max(1, round(p x ${n})) lost frames each, frame 0 never lost; the same patterns for every codec`,
      rttFrames: RTT_FRAMES,
      patterns: patterns.map((p) => ({ percent: p.percent, trial: p.trial, lost: p.lost })),
      summary: [...groups.values()].map((rows) => {
        const r0 = rows[0];
        return {
          codec: r0.codec,
          setting: r0.setting,
          recovery: r0.recovery ?? (r0.codec.startsWith('aic') ? 'none needed (every frame intra)' : 'none'),
          lossPercent: r0.percent,
          lostFrames: r0.lost.length,
          trials: rows.length,
          frozenFraction: mean(rows.map((r) => r.frozenFraction)),
          psnrY: mean(rows.map((r) => r.psnrY)),
          ssim: mean(rows.map((r) => r.ssim)),
          // against the same stream with nothing lost
          psnrYDrop: mean(rows.map((r) => r.cleanPsnrY - r.psnrY)),
          ssimDrop: mean(rows.map((r) => r.cleanSsim - r.ssim)),
          extraKbps: (mean(rows.map((r) => r.extraBytes)) * 8 * fps) / n / 1000,
        };
      }),
      trials: lossRows.map(({ codec: c, setting, recovery, percent, trial, lost, keyframesSent, extraBytes, frozenFrames, psnrY: py, ssim }) => ({ codec: c, setting, recovery: recovery ?? 'none', percent, trial, lost, keyframesSent, extraBytes, frozenFrames, psnrY: py, ssim })),
    };
    // What one keyframe costs: the IDR's bytes against the inter frame it replaced.
    const byCodec = (c) => idrCosts.filter((x) => x.codec === c);
    run.keyframes = {
      // Ours: a requested keyframe is a neural intra frame in place of the P-frame the clean chain sent.
      requestedPredicted: {
        codec: 'aic-inter',
        setting: `floor ${lossFloor}`,
        samples: interIdr.length,
        keyframeBytes: mean(interIdr.map((x) => x.keyframeBytes)),
        replacedBytes: mean(interIdr.map((x) => x.replacedBytes)),
        meanInterBytes: clean.pt.pFrame.meanBytes,
        keyframeOverInter: mean(interIdr.map((x) => x.keyframeBytes)) / clean.pt.pFrame.meanBytes,
      },
      // Ours, answered by requestRecovery(): the predicted frame against the receiver's reference.
      recoveryPredicted: {
        codec: 'aic-inter',
        setting: `floor ${lossFloor}, ${RECOVERY_REFERENCES} references kept`,
        samples: interRecovery.length,
        predictedShare: interRecovery.filter((x) => x.codec === 'predicted').length / Math.max(1, interRecovery.length),
        frameBytes: mean(interRecovery.map((x) => x.keyframeBytes)),
        replacedBytes: mean(interRecovery.map((x) => x.replacedBytes)),
        frameOverInter: mean(interRecovery.map((x) => x.keyframeBytes)) / clean.pt.pFrame.meanBytes,
      },
      requested: ['x264', 'vp8'].map((c) => {
        const xs = byCodec(c);
        return {
          codec: c,
          setting: xs[0]?.setting ?? null,
          samples: xs.length,
          keyframeBytes: mean(xs.map((x) => x.keyframeBytes)),
          replacedBytes: mean(xs.map((x) => x.replacedBytes)),
          meanInterBytes: mean(xs.map((x) => x.meanInterBytes)),
          extraBytesPerKeyframe: mean(xs.map((x) => x.streamExtraBytes / x.forcedInStream)),
          keyframeOverInter: mean(xs.map((x) => x.keyframeBytes)) / mean(xs.map((x) => x.meanInterBytes)),
        };
      }),
      periodic: KEYINTS.map((k) => {
        const s = run.codecs[`x264-keyint${k}`];
        const base = run.codecs['x264-nokey'];
        return {
          keyint: k,
          bdRatePsnrYVsNoKeyframes: bdRate(rq(base, 'psnrY'), rq(s, 'psnrY')),
          bdRateSsimVsNoKeyframes: bdRate(rq(base, 'ssimDb'), rq(s, 'ssimDb')),
          rateIncreaseAtLossCrf: s.find((p) => p.crf === lossCrf).kbps / base.find((p) => p.crf === lossCrf).kbps - 1,
        };
      }),
    };

    // BD-rates of our curves against the references.
    for (const key of ['psnrY', 'psnrRgb', 'ssimDb']) {
      run.bdRate[key] = {};
      for (const ours of ['aic-intra', 'aic-session', 'aic-inter', 'aic-inter-i420']) {
        if (run.codecs[ours].length < 2) continue;
        const own = ours === 'aic-inter' ? ['aic-intra'] : ours === 'aic-inter-i420' ? ['aic-inter'] : [];
        for (const ref of ['x264', 'vp8', 'x264-intra', ...own]) run.bdRate[key][`${ours} vs ${ref}`] = bdRate(rq(run.codecs[ref], key), rq(run.codecs[ours], key));
      }
      run.bdRate[key]['x264-intra vs x264'] = bdRate(rq(run.codecs.x264, key), rq(run.codecs['x264-intra'], key));
      run.bdRate[key]['vp8 vs x264'] = bdRate(rq(run.codecs.x264, key), rq(run.codecs.vp8, key));
    }
    // P-frame speed against x264 on the same frames: our median P-frame encode + decode over
    // x264's encode + decode per frame at the CRF whose rate is nearest ours at the loss floor.
    {
      const ours = clean.pt;
      const x = [...run.codecs.x264].sort((a, b) => Math.abs(a.kbps - ours.kbps) - Math.abs(b.kbps - ours.kbps))[0];
      run.pFrameSpeed = {
        setting: ours.setting,
        oursEncodeMsMedian: ours.pFrame.encodeMsMedian,
        oursDecodeMsMedian: ours.pFrame.decodeMsMedian,
        oursEncodeMsP99: ours.pFrame.encodeMsP99,
        oursDecodeMsP99: ours.pFrame.decodeMsP99,
        x264Setting: x.setting,
        x264EncodeMsPerFrame: x.encodeMsPerFrame,
        x264DecodeMsPerFrame: x.decodeMsPerFrame,
        ratio: (ours.pFrame.encodeMsMedian + ours.pFrame.decodeMsMedian) / (x.encodeMsPerFrame + x.decodeMsPerFrame),
      };
    }
    runs.push(run);
    log(`  BD-rate PSNR-Y aic-inter vs x264 ${fmt(run.bdRate.psnrY['aic-inter vs x264'], 1)} %, vs aic-intra ${fmt(run.bdRate.psnrY['aic-inter vs aic-intra'], 1)} %`);
    log(`  BD-rate PSNR-Y aic-intra vs x264 ${fmt(run.bdRate.psnrY['aic-intra vs x264'], 1)} %, vs vp8 ${fmt(run.bdRate.psnrY['aic-intra vs vp8'], 1)} %`);
  }
}

// ---------------------------------------------------------------------------------------------
// Report.

const sh = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
};
const cpus = os.cpus();
const info = engine.info();
const result = {
  command: `npm run eval:video -- ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  machine: {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverageAtEnd: os.loadavg().map((x) => +x.toFixed(2)),
    node: process.version,
    ffmpeg: sh('ffmpeg', ['-hide_banner', '-version'])?.split('\n')[0] ?? null,
    debianPackages: sh('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', 'libx264-*', 'libvpx[0-9]*'])?.split('\n') ?? null,
    onnxRuntime: info.ortVersion,
    executionProvider: info.requestedProvider,
    intraOpThreads: info.intraOpThreads,
  },
  model: { name: codec.name, version: codec.version, levels: codec.levels },
  options: { clipsDir: path.relative(root, clipsDir) || '.', clips, frames: frameCount, largeFrames, fps, sizes: sizes.map((s) => `${s.width}x${s.height}`), largeClips, threads, quick, crfs: CRFS, vp8Kbps: VP8_KBPS ?? 'the rates of the x264 sweep', vp8CpuUsed: VP8_CPU_USED, vp8Threads: VP8_THREADS, keyints: KEYINTS, sessionModes: SESSION_MODES, interFloors: INTER_FLOORS, interI420Floors: INTER_I420_FLOORS, interLossFloor: INTER_LOSS_FLOOR, levels: LEVELS, lossPercent: LOSS_PERCENT, lossTrials: LOSS_TRIALS, rttFrames: RTT_FRAMES, lossCrf: LOSS_CRF },
  definitions: {
    frames: `the first N frames of each clip, decoded by ffmpeg, scaled to cover WxH (bicubic) and centre-cropped; played at ${fps} fps for every rate, whatever the clip's own rate`,
    rate: 'kbps = total bytes x 8 x fps / frames / 1000; bpp = bits per pixel per frame. aic: whole payloads (keyframes with their 44 bytes of header and check, predicted frames with 15 in the compact form); x264/VP8: the bitstream packets (Annex B / VP8 frames, no container, no RTP)',
    psnrY: 'per frame 10 log10(255^2 / MSE) of BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B computed from the original and the decoded rgb24 frames (unrounded, full range), capped at 100 dB; averaged over frames',
    psnrRgb: 'per frame PSNR over all R, G, B samples (imageQuality), averaged over frames',
    ssim: 'per frame SSIM, 11x11 Gaussian window (sigma 1.5), per R, G, B plane and averaged (imageQuality); averaged over frames. ssimDb = mean of -10 log10(1 - SSIM), the scale BD-rates on SSIM use',
    bdRate: 'Bjøntegaard delta rate (bench/bdrate.mjs, cubic fit of log rate over quality, the overlapping quality range): negative = ours needs fewer bits at equal quality',
    times: 'ms per frame. aic: wall time of each awaited encode (aic-session: compressFrame, the closed loop) and decompressFrame, on the engine (ONNX Runtime CPU). ffmpeg codecs: wall time of the ffmpeg process (reading raw rgb24 from a file, the rgb24<->yuv420p conversion, coding, writing) minus the median zero-frame run of the same command (ffmpegStartMs), divided by frames',
    aicInterI420: 'aic-inter-i420: the frames converted to yuv420p by ffmpeg (the same swscale conversion x264 and VP8 get) and given to the session as i420; the receiver decodes i420, which ffmpeg converts back to rgb24 for measuring, as it does for x264 and VP8. Its floors are on the i420 score (SSIM of Y, U, V weighted 6:1:1)',
    ffmpegCodecs: 'rgb24 frames in; ffmpeg converts to yuv420p (swscale, BT.601 limited range) inside the process, as part of those codecs cost and time; decoded back to rgb24 by ffmpeg the same way. yuv420pRoundTrip: that conversion alone',
  },
  runs,
};

// Means over runs, per size.
const sizeKeys = [...new Set(runs.map((r) => `${r.width}x${r.height}`))];
result.summary = sizeKeys.map((sz) => {
  const rs = runs.filter((r) => `${r.width}x${r.height}` === sz);
  const bd = {};
  for (const key of ['psnrY', 'psnrRgb', 'ssimDb']) {
    bd[key] = {};
    for (const pair of Object.keys(rs[0].bdRate[key])) {
      const vals = rs.map((r) => r.bdRate[key][pair]).filter((v) => v !== null && Number.isFinite(v));
      bd[key][pair] = vals.length === rs.length ? mean(vals) : null;
    }
  }
  const times = {};
  for (const c of Object.keys(rs[0].codecs)) {
    const pts = rs.flatMap((r) => r.codecs[c]);
    times[c] = { encodeMsPerFrame: mean(pts.map((p) => p.encodeMsPerFrame)), decodeMsPerFrame: mean(pts.map((p) => p.decodeMsPerFrame)) };
  }
  const ratios = rs.map((r) => r.pFrameSpeed.ratio);
  return { size: sz, clips: rs.map((r) => r.clip), bdRate: bd, msPerFrame: times, pFrameSpeedVsX264: { perClip: ratios, mean: mean(ratios) } };
});

for (const s of result.summary) {
  console.log(`\n${s.size} (${s.clips.join(', ')}; ${runs.find((r) => `${r.width}x${r.height}` === s.size).frames} frames at ${fps} fps), mean BD-rate over clips:`);
  for (const [key, pairs] of Object.entries(s.bdRate)) console.log(`  ${key.padEnd(8)} ${Object.entries(pairs).map(([p, v]) => `${p} ${fmt(v, 1)} %`).join(', ')}`);
  console.log(`  P-frame encode + decode (median) over x264's per frame: ${s.pFrameSpeedVsX264.perClip.map((v) => fmt(v, 2)).join(', ')} (mean ${fmt(s.pFrameSpeedVsX264.mean, 2)}x)`);
  console.log(`  ms/frame (encode / decode): ${Object.entries(s.msPerFrame).map(([c, t]) => `${c} ${fmt(t.encodeMsPerFrame, 1)} / ${fmt(t.decodeMsPerFrame, 1)}`).join(', ')}`);
}
for (const run of runs) {
  console.log(`\n${run.clip} ${run.width}x${run.height}`);
  console.log('codec        setting                   kbit/s   PSNR-Y  PSNR-RGB   SSIM   enc ms  dec ms  keys');
  for (const [name, pts] of Object.entries(run.codecs)) {
    for (const p of pts) console.log(`${name.padEnd(12)} ${String(p.setting).padEnd(22)} ${fmt(p.kbps, 0).padStart(9)} ${fmt(p.psnrY).padStart(8)} ${fmt(p.psnrRgb).padStart(8)} ${fmt(p.ssim, 4).padStart(7)} ${fmt(p.encodeMsPerFrame, 1).padStart(8)} ${fmt(p.decodeMsPerFrame, 1).padStart(7)} ${String(p.keyframes).padStart(5)}`);
  }
  for (const l of run.loss.summary.filter((x) => x.codec !== 'aic-intra' || x.setting === `level ${LEVELS[Math.floor(LEVELS.length / 2)]}`)) {
    console.log(`loss ${l.lossPercent} % ${l.codec} ${l.setting} [${l.recovery}]: frozen ${fmt(100 * l.frozenFraction, 1)} %, PSNR-Y ${fmt(-l.psnrYDrop)} dB, SSIM ${fmt(-l.ssimDrop, 4)}, ${fmt(l.extraKbps, 1)} kbit/s more`);
  }
}
log('done');

if (jsonOut) {
  mkdirSync(path.dirname(path.resolve(jsonOut)), { recursive: true });
  writeFileSync(jsonOut, JSON.stringify(result, null, 1));
}
if (plotOut) writeVideoPlots(result, plotOut);
await engine.close();
