// The benchmark suite (issue 12, part 5), all in one process on the same frames so that ratios
// hold on a noisy machine. Timing by tinybench in interleaved rounds (bench/bench-lib.mjs); every
// table reports mean, p50, p95, p99 and the ratio to a named baseline of the same run.
//
//   npm run bench [-- --quick] [--json FILE] [--report] [--sections 1,2,3,4,5]
//                 [--images ../shared/data/kodak] [--speech ../shared/data/speech/vctk]
//                 [--video ../shared/data/video/box.mp4]
//
//   1 end to end at default settings (sessions: video 640x360 / 1280x720, screen, audio 16/48 kHz)
//   2 the classical choice (JPEG / WebP at the same SSIM, Opus at the same bitrate)
//   3 the peer a user would pick (onnxruntime-node + the best JS pre/post, no entropy coding)
//   4 scale (concurrent real-time sessions)
//   5 our overhead against raw ONNX Runtime in C++ (bench/ort_raw.cc)
// --report writes docs/BENCHMARKS.md and docs/results/bench.json (bench/bench-report.mjs).
// Absolute times depend on the machine and its load; compare the ratios.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { arg } from './args.mjs';
import { audioFrames, cameraFrames, describe, kodak, measure, num, screenFrame, table, timeCols, videoFrame } from './bench-lib.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const quick = process.argv.includes('--quick');
const report = process.argv.includes('--report');
const jsonOut = arg('json', report ? path.join(root, 'docs', 'results', 'bench.json') : undefined);
const sections = new Set(String(arg('sections', '1,2,3,4,5')).split(',').map(Number));
const imagesDir = arg('images', path.join(root, '..', 'shared', 'data', 'kodak'));
const videoFile = arg('video', path.join(root, '..', 'shared', 'data', 'video', 'box.mp4'));
const speechDir = arg('speech', path.join(root, '..', 'shared', 'data', 'speech', 'vctk'));
const T = quick ? { time: 900, rounds: 3, iterations: 6, photos: 3, cameraFrames: 24, scaleSeconds: 2 } : { time: 4000, rounds: 4, iterations: 20, photos: 4, cameraFrames: 60, scaleSeconds: 5 };

const aic = await import(path.join(root, 'dist', 'index.js'));
const { encodeConventional, decodeConventional } = await import(path.join(root, 'dist', 'conventional', 'image.js'));
const { OpusEncoder, OpusDecoder } = await import(path.join(root, 'dist', 'conventional', 'opus.js'));
const { readWav, resample } = await import(path.join(root, 'dist', 'cli', 'wav.js'));
const engine = await aic.createEngine({ executionProvider: 'cpu' });
const image = engine.imageCodec();
const audio = engine.audioCodec();
const info = engine.info();

const results = {
  command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
  date: new Date().toISOString(),
  quick,
  machine: {
    cpus: os.cpus().map((c) => c.model).filter((m, i, a) => a.indexOf(m) === i),
    cores: os.cpus().length,
    loadAverage: os.loadavg(),
    memoryGiB: os.totalmem() / 2 ** 30,
    platform: `${os.platform()} ${os.release()} ${process.arch}`,
    node: process.version,
    ortVersion: info.ortVersion,
    intraOpThreads: info.intraOpThreads,
    models: { image: `${image.name}@${image.version}`, audio: `${audio.name}@${audio.version}` },
  },
  sections: {},
  tables: [],
};
console.log(`aic benchmarks${quick ? ' (--quick)' : ''}: ${results.machine.cpus.join(', ')} x${results.machine.cores}, Node ${process.version}, ONNX Runtime ${info.ortVersion}, ${info.intraOpThreads} intra-op threads`);
const keep = (t) => (results.tables.push(t), t);
const median = (xs) => describe(xs).p50;
const countBy = (xs) => xs.reduce((m, x) => ((m[x] = (m[x] ?? 0) + 1), m), {});

// ---- shared frames ----------------------------------------------------------------------------
const photos = await kodak(imagesDir, T.photos);
// Video is a real camera clip when ffmpeg can decode it (consecutive frames, as a call sends them:
// the rate controller's prediction holds from frame to frame); else the Kodak photos, each frame
// unlike the last.
const sizes = [
  [640, 360],
  [1280, 720],
];
const camera = sizes.map(([w, h]) => cameraFrames(videoFile, w, h, T.cameraFrames));
const fromCamera = camera.every(Boolean);
const video = {};
for (const [i, [w, h]] of sizes.entries()) video[`${w}x${h}`] = fromCamera ? camera[i] : await Promise.all(photos.map((p) => videoFrame(p, w, h)));
// The classical comparison searches JPEG and WebP qualities frame by frame: a few frames of the clip
// (and the closed-loop levels of those frames).
const classicalFrames = (frames) => (fromCamera ? frames.filter((_, k) => k % 8 === 0) : frames);
const screen = [await screenFrame(1280, 720, photos[0])];
const speechFile = path.join(speechDir, 'p225_001.wav');
const speechWav = readWav(speechFile);
const speech16 = resample(speechWav.channels[0], speechWav.sampleRate, 16000);
const speech48 = resample(speechWav.channels[0], speechWav.sampleRate, 48000);
const audioSets = { 16000: audioFrames(speech16, 16000, 150), 48000: audioFrames(speech48, 48000, 150) };
const audioFrame = (rate, data) => ({ type: 'audio', format: 's16le', sampleRate: rate, channels: 1, data });
results.frames = {
  video: fromCamera
    ? `camera clip ${path.basename(videoFile)} (../shared/data/video, 640x480 H.264 at 29.97 fps, decoded by ffmpeg), its first ${T.cameraFrames} frames scaled to cover and centre-cropped to 640x360 and 1280x720 (upscaled), cycled; the classical comparison on every 8th`
    : `Kodak ${photos.map((p) => p.name).join(', ')}: centre crops at 640x360; resized to cover 1280x720 (the photos are 768x512)`,
  screen: 'synthetic 1280x720 UI (title bar, side bar, text-like glyph runs, buttons, a bar chart, a photo thumbnail)',
  audio: `VCTK ${path.basename(speechFile)} resampled to 16 and 48 kHz, mono s16le, ${audioSets[16000].length} frames of 20 ms cycled`,
};

/** A sender and a receiver session; each call compresses the next frame and decompresses its payload. */
function sessionPair(frames, options, sink) {
  const tx = engine.openSession(options);
  const rx = engine.openSession();
  let i = 0;
  const fn = async () => {
    const r = await tx.compressFrame(frames[i++ % frames.length]);
    await rx.decompressFrame(r.payload);
    sink.push({ codec: r.codec, status: r.status, level: r.qualityLevel, ratio: r.compressionRatio, bytes: r.compressedBytes, score: r.quality.score, verified: r.quality.verified, passes: r.passes, t: r.timings });
  };
  return { fn, close: () => (tx.close(), rx.close()) };
}
function summarizeSink(sink) {
  const verified = sink.filter((r) => r.verified);
  return {
    frames: sink.length,
    codecs: countBy(sink.map((r) => r.codec)),
    compressionRatio: median(sink.map((r) => r.ratio)),
    bytes: median(sink.map((r) => r.bytes)),
    score: median(sink.map((r) => r.score)),
    verifiedShare: verified.length / Math.max(1, sink.length),
    passes: median(sink.map((r) => r.passes)),
    level: median(sink.filter((r) => r.level !== null).map((r) => r.level)),
  };
}
const codecText = (c) =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
const e2eCols = [
  ['path', (r) => r.name],
  ...timeCols,
  ['1-bytes/raw', (r) => (r.s ? num(r.s.compressionRatio, 4) : '-')],
  ['score', (r) => (r.s ? num(r.s.score, 3) : '-')],
  ['verified', (r) => (r.s ? `${Math.round(r.s.verifiedShare * 100)} %` : '-')],
  ['carried by', (r) => (r.s ? codecText(r.s.codecs) : '-')],
];

// ---- 1. end to end at default settings ----------------------------------------------------------
/** The closed loop's chosen level per frame (for baselines and section 2). */
async function closedLoopLevels(frames) {
  // The image codec's levels: every frame intra-coded.
  const s = engine.openSession({ maxLatencyMs: Infinity, interFrames: false });
  const out = [];
  for (let k = 0; k < 2; k++) for (const f of frames) out.push(await s.compressFrame(f)); // second pass: learnt
  s.close();
  return out.slice(frames.length);
}
const levels = {};
if (sections.has(1) || sections.has(2)) {
  for (const [key, frames] of [...Object.entries(video), ['screen', screen]]) levels[key] = await closedLoopLevels(frames);
}
if (sections.has(1)) {
  const s1 = (results.sections.e2e = { groups: [] });
  for (const [key, frames, label] of [
    ['640x360', video['640x360'], 'video 640x360'],
    ['1280x720', video['1280x720'], 'video 1280x720'],
    ['screen', screen, 'screen 1280x720'],
  ]) {
    // Video and screen sessions send predicted frames between keyframes by default; the intra
    // rows are the image codec's closed loop on every frame (what a keyframe costs).
    const sinks = { def: [], closed: [], intra: [] };
    const def = sessionPair(frames, {}, sinks.def);
    const closed = sessionPair(frames, { maxLatencyMs: Infinity }, sinks.closed);
    const intra = sessionPair(frames, { maxLatencyMs: Infinity, interFrames: false }, sinks.intra);
    let i = 0;
    const lv = levels[key].map((r) => (r.codec === 'neural-image' ? r.qualityLevel : image.defaultLevel));
    const lvText = levels[key].some((r) => r.codec === 'neural-image') ? 'the closed loop level' : `the default level ${image.defaultLevel}`;
    const plain = async () => {
      const k = i++ % frames.length;
      const e = await image.encode(frames[k], { level: lv[k] });
      await image.decode(e.payload);
    };
    // The yardstick for a frame's budget: JPEG q75 encode + decode of the same frames
    // (sharp, 4:2:0), what a server without AI spends on one.
    let j = 0;
    const jpeg75 = async () => {
      const f = frames[j++ % frames.length];
      const body = await encodeConventional(f, 'jpeg', 75);
      await decodeConventional(body, 'jpeg', 'rgb24', f.width, f.height);
    };
    const rows = await measure(
      [
        { name: `plain codec encode+decode at ${lvText} (baseline)`, fn: plain },
        { name: 'session, defaults (maxLatencyMs 20)', fn: def.fn },
        { name: 'session, maxLatencyMs Infinity (closed loop)', fn: closed.fn },
        { name: 'session, closed loop, every frame intra (interFrames: false)', fn: intra.fn },
        ...(key === 'screen' ? [] : [{ name: 'JPEG q75 encode+decode, same frames (sharp, 4:2:0)', fn: jpeg75 }]),
      ],
      T,
    );
    def.close();
    closed.close();
    intra.close();
    rows[1].s = summarizeSink(sinks.def);
    rows[2].s = summarizeSink(sinks.closed);
    rows[3].s = summarizeSink(sinks.intra);
    const t = keep(table(`1. end to end: ${label} (compressFrame + decompressFrame on a receiving session)`, rows, e2eCols));
    const overJpeg = rows[4] ? { defaultP50: rows[1].p50 / rows[4].p50, defaultP99: rows[1].p99 / rows[4].p99, intraP50: rows[3].p50 / rows[4].p50, intraP99: rows[3].p99 / rows[4].p99 } : null;
    // Per-stage breakdown of the closed loop, from the results' own timings.
    const cl = sinks.intra.filter((r) => r.codec.startsWith('neural'));
    if (cl.length === 0) {
      console.log(`  (no neural frames in the closed loop: ${codecText(rows[2].s.codecs)} carried them, so no stage breakdown)`);
      s1.groups.push({ key, label, rows, overJpeg, table: t.title });
      continue;
    }
    const stage = (k) => describe(cl.map((r) => r.t[k]));
    const stages = ['preprocessMs', 'inferenceMs', 'postprocessMs', 'totalMs'].map((k) => ({ name: k.replace('Ms', ''), ...stage(k) }));
    const passes = describe(cl.map((r) => r.passes));
    const bt = keep(
      table(`1. closed-loop stages: ${label} (result.timings of neural frames; passes p50 ${num(passes.p50, 0)}, p99 ${num(passes.p99, 0)})`, stages, [
        ['stage', (r) => r.name],
        ['mean ms', (r) => num(r.mean)],
        ['p50 ms', (r) => num(r.p50)],
        ['p95 ms', (r) => num(r.p95)],
        ['p99 ms', (r) => num(r.p99)],
        ['share of total (mean)', (r) => `${num((100 * r.mean) / stages[3].mean, 0)} %`],
      ]),
    );
    s1.groups.push({ key, label, rows, overJpeg, stages, passes, table: t.title, stagesTable: bt.title });
  }
  for (const rate of [16000, 48000]) {
    const frames = audioSets[rate].map((d) => audioFrame(rate, d));
    const sink = [];
    const pair = sessionPair(frames, {}, sink);
    // The level a session settles on for this speech, for the plain baseline.
    const probe = engine.openSession();
    const probeLv = [];
    for (const f of frames) {
      const r = await probe.compressFrame(f);
      if (r.codec === 'neural-audio') probeLv.push(r.qualityLevel);
    }
    probe.close();
    const level = audio.levelOrDefault(probeLv.length ? median(probeLv) : undefined);
    const enc = audio.createEncoder(rate, 1);
    const dec = audio.createDecoder();
    let i = 0;
    let seq = 0;
    const plain = async () => {
      const e = await enc.encode({ data: frames[i++ % frames.length].data, format: 's16le' }, { level, sequence: seq++ });
      await dec.decode(e.payload);
    };
    const rows = await measure(
      [
        { name: `plain audio codec encode+decode at level ${level} (baseline)`, fn: plain },
        { name: 'session, defaults', fn: pair.fn },
      ],
      T,
    );
    pair.close();
    rows[1].s = summarizeSink(sink);
    const t = keep(table(`1. end to end: audio ${rate / 1000} kHz mono, 20 ms frames (compressFrame + decompressFrame)`, rows, e2eCols));
    s1.groups.push({ key: `audio${rate}`, label: `audio ${rate / 1000} kHz`, rows, table: t.title });
  }
}

// ---- 2. the classical choice ---------------------------------------------------------------------
if (sections.has(2)) {
  const s2 = (results.sections.classical = { image: [], audio: null });
  for (const key of quick ? ['640x360'] : ['640x360', '1280x720']) {
    const all = video[key];
    const frames = classicalFrames(all);
    const frameLevels = classicalFrames(levels[key]);
    const { width, height } = frames[0];
    // Our output on each frame (closed loop level), scored with imageQuality; then the lowest
    // JPEG and WebP quality whose SSIM reaches it.
    const per = [];
    for (let k = 0; k < frames.length; k++) {
      const f = frames[k];
      const lr = frameLevels[k];
      const level = lr.codec === 'neural-image' ? lr.qualityLevel : image.defaultLevel;
      const e = await image.encode(f, { level });
      const d = await image.decode(e.payload);
      const ours = aic.imageQuality(f.data, d.data, width, height);
      const row = { frame: k, level, bytes: e.payload.length, ssim: ours.ssim };
      for (const c of ['jpeg', 'webp']) {
        let lo = 1;
        let hi = 100;
        let best = null;
        while (lo <= hi) {
          const q = (lo + hi) >> 1;
          const body = await encodeConventional(f, c, q);
          const back = await decodeConventional(body, c, 'rgb24', width, height);
          const s = aic.imageQuality(f.data, back, width, height).ssim;
          if (s >= ours.ssim) {
            best = { quality: q, bytes: body.length, ssim: s };
            hi = q - 1;
          } else lo = q + 1;
        }
        row[c] = best ?? { quality: 100, bytes: (await encodeConventional(f, c, 100)).length, ssim: NaN, short: true };
      }
      per.push(row);
    }
    const at = (c) => {
      let i = 0;
      return async () => {
        const k = i++ % frames.length;
        const body = await encodeConventional(frames[k], c, per[k][c].quality);
        await decodeConventional(body, c, 'rgb24', width, height);
      };
    };
    let i = 0;
    const ours = async () => {
      const k = i++ % frames.length;
      const e = await image.encode(frames[k], { level: per[k].level });
      await image.decode(e.payload);
    };
    const rows = await measure(
      [
        { name: 'JPEG (sharp, 4:2:0) encode+decode (baseline)', fn: at('jpeg') },
        { name: 'WebP effort 0 encode+decode', fn: at('webp') },
        { name: 'aic image codec encode+decode', fn: ours },
      ],
      T,
    );
    const bytes = { jpeg: median(per.map((p) => p.jpeg.bytes)), webp: median(per.map((p) => p.webp.bytes)), ours: median(per.map((p) => p.bytes)) };
    rows[0].bytes = bytes.jpeg;
    rows[1].bytes = bytes.webp;
    rows[2].bytes = bytes.ours;
    rows[0].q = `q ${per.map((p) => p.jpeg.quality).join('/')}`;
    rows[1].q = `q ${per.map((p) => p.webp.quality).join('/')}`;
    rows[2].q = `level ${per.map((p) => p.level).join('/')}`;
    const ssim = median(per.map((p) => p.ssim));
    const t = keep(
      table(`2. classical choice: ${key} at the same SSIM as ours (median ${num(ssim, 4)}; per-frame quality searched, scored with imageQuality)`, rows, [
        ['codec', (r) => r.name],
        ...timeCols,
        ['setting', (r) => r.q],
        ['bytes p50', (r) => String(Math.round(r.bytes))],
      ]),
    );
    const ratios = {
      timeOursOverJpeg: rows[2].p50 / rows[0].p50,
      timeOursOverWebp: rows[2].p50 / rows[1].p50,
      bytesOursOverJpeg: bytes.ours / bytes.jpeg,
      bytesOursOverWebp: bytes.ours / bytes.webp,
    };
    console.log(`  ours ÷ theirs: time ${num(ratios.timeOursOverJpeg)}x JPEG, ${num(ratios.timeOursOverWebp)}x WebP; bytes ${num(ratios.bytesOursOverJpeg)}x JPEG, ${num(ratios.bytesOursOverWebp)}x WebP (our payload includes its 44-byte header; theirs are bare files)`);
    s2.image.push({ key, ssim, perFrame: per, rows, bytes, ratios, table: t.title });
  }
  // Opus at our bitrate, 16 kHz speech.
  const rate = 16000;
  const frames = audioSets[rate];
  const n = rate / 50;
  const level = audio.defaultLevel;
  const enc = audio.createEncoder(rate, 1);
  const dec = audio.createDecoder();
  let seq = 0;
  const ref = new Float32Array(frames.length * n);
  frames.forEach((b, k) => {
    for (let j = 0; j < n; j++) ref[k * n + j] = b.readInt16LE(j * 2) / 32768;
  });
  const toF32 = (bufs) => {
    const out = new Float32Array(bufs.reduce((s, b) => s + b.length / 2, 0));
    let o = 0;
    for (const b of bufs) for (let j = 0; j < b.length / 2; j++) out[o++] = b.readInt16LE(j * 2) / 32768;
    return out;
  };
  const score = (decoded, delay) => aic.audioQuality(ref.subarray(0, decoded.length - delay), decoded.subarray(delay), rate);
  // One untimed pass of each: bytes and score over the clip.
  let ourBytes = 0;
  const ourOut = [];
  for (const b of frames) {
    const e = await enc.encode({ data: b, format: 's16le' }, { level, sequence: seq++ });
    ourBytes += e.payload.length;
    ourOut.push((await dec.decode(e.payload)).data);
  }
  const kbps = (ourBytes * 8) / (frames.length * 20);
  const opusKbps = Math.max(6, Math.round(kbps));
  const oe = new OpusEncoder(rate, 1);
  const od = new OpusDecoder(rate, 1);
  let opusBytes = 0;
  const opusOut = [];
  for (const b of frames) {
    const { packet } = await oe.encode(b, 's16le', opusKbps);
    opusBytes += packet.length;
    opusOut.push((await od.decode(packet, 's16le')).data);
  }
  const ourScore = score(toF32(ourOut), audio.delaySamples(rate));
  const opusScore = score(toF32(opusOut), oe.delaySamples);
  let i = 0;
  let j = 0;
  const rows = await measure(
    [
      {
        name: `Opus ${opusKbps} kbit/s VBR voip encode+decode (baseline)`,
        fn: async () => {
          const { packet } = await oe.encode(frames[i++ % frames.length], 's16le', opusKbps);
          await od.decode(packet, 's16le');
        },
      },
      {
        name: `aic audio codec level ${level} encode+decode`,
        fn: async () => {
          const e = await enc.encode({ data: frames[j++ % frames.length], format: 's16le' }, { level, sequence: seq++ });
          await dec.decode(e.payload);
        },
      },
    ],
    T,
  );
  rows[0].bytes = opusBytes / frames.length;
  rows[1].bytes = ourBytes / frames.length;
  rows[0].score = opusScore.score;
  rows[1].score = ourScore.score;
  const t = keep(
    table(`2. classical choice: audio 16 kHz speech, 20 ms frames, Opus at our bitrate (ours ${num(kbps, 1)} kbit/s incl. headers)`, rows, [
      ['codec', (r) => r.name],
      ...timeCols,
      ['bytes/frame', (r) => num(r.bytes, 1)],
      ['audio score (clip)', (r) => num(r.score, 3)],
    ]),
  );
  const ratios = { timeOursOverOpus: rows[1].p50 / rows[0].p50, bytesOursOverOpus: ourBytes / opusBytes };
  console.log(`  ours ÷ Opus: time ${num(ratios.timeOursOverOpus)}x, bytes ${num(ratios.bytesOursOverOpus)}x; score ${num(ourScore.score, 3)} vs ${num(opusScore.score, 3)}`);
  s2.audio = { rate, kbps, opusKbps, rows, ratios, scores: { ours: ourScore, opus: opusScore }, table: t.title };
}

await import('./bench-more.mjs').then((m) => m.run({ root, engine, image, audio, aic, results, sections, T, quick, video, audioSets, audioFrame, keep }));

await engine.close();
if (jsonOut) {
  mkdirSync(path.dirname(path.resolve(jsonOut)), { recursive: true });
  writeFileSync(jsonOut, `${JSON.stringify(results, null, 1)}\n`);
  console.log(`\nresults written to ${jsonOut}`);
}
if (report) {
  const { writeReport } = await import('./bench-report.mjs');
  const md = path.join(root, 'docs', 'BENCHMARKS.md');
  const engineStartJson = path.join(root, 'docs', 'results', 'engine-start.json');
  writeFileSync(md, writeReport(results, existsSync(engineStartJson) ? JSON.parse(readFileSync(engineStartJson, 'utf8')) : null));
  console.log(`report written to ${md}`);
}
void existsSync;
void spawnSync;
