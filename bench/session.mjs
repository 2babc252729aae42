// The session API on real media, as a server would run it, in default adaptive mode:
//  - photos (Kodak): one session per photo with default options, and one session for the whole
//    set with no latency budget; ratio, SSIM, fallbacks, passes and latency per frame, and in the
//    same process the plain codec at the level the session chose (encode + decode, no search)
//    and JPEG (sharp, quality 75) as baselines;
//  - a 720p-style video (Kodak images cropped to 640x360, 3 s of a slow pan per image) through
//    one session: how many frames need one pass once the controller has learnt the content;
//  - speech (VCTK) through one sending session per clip: bit rate, fallbacks, score.
//
//   npm run bench:session [-- --images ../shared/data/kodak --speech ../shared/data/speech/vctk --json docs/results/session.json]
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { arg } from './args.mjs';
import { summarize } from './stats.mjs';
import { readWav } from './wav.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const aic = await import(path.join(root, 'dist', 'index.js'));
const imagesDir = arg('images', path.join(root, '..', 'shared', 'data', 'kodak'));
const speechDir = arg('speech', path.join(root, '..', 'shared', 'data', 'speech', 'vctk'));
const limit = Number(arg('limit', 0)) || undefined;
const jsonOut = arg('json');
const engine = await aic.createEngine({ executionProvider: 'cpu' });
const codec = engine.imageCodec();

const photos = readdirSync(imagesDir).filter((f) => f.endsWith('.png')).sort().slice(0, limit);
const load = async (f) => sharp(path.join(imagesDir, f)).removeAlpha().raw().toBuffer({ resolveWithObject: true });

function tally(rs, budgetBytes = Infinity) {
  // Neural frames measured in the closed loop (open-loop frames carry a predicted score only).
  const ok = rs.filter((r) => r.codec === 'neural-image' && r.quality.verified);
  const by = (k) => rs.filter((r) => r.fallbackReason === k).length;
  const codecs = {};
  for (const r of rs) codecs[r.codec] = (codecs[r.codec] ?? 0) + 1;
  return {
    frames: rs.length,
    neural: ok.length,
    codecs,
    statuses: { success: rs.filter((r) => r.status === 'success').length, fallback: rs.filter((r) => r.status === 'fallback').length, qualityThresholdNotMet: rs.filter((r) => r.status === 'quality_threshold_not_met').length },
    fitLink: rs.filter((r) => r.compressedBytes <= budgetBytes).length,
    bytes: summarize(rs.map((r) => r.compressedBytes)),
    fallbacks: { quality: by('quality'), latency: by('latency'), error: by('error'), model_unavailable: by('model_unavailable') },
    ratio: summarize(rs.map((r) => r.compressionRatio)),
    ssimNeural: ok.length ? summarize(ok.map((r) => r.quality.ssim)) : null,
    floorHeld: rs.every((r) => r.status !== 'success' || r.quality.score >= r.minQualityScore),
    passes: summarize(ok.map((r) => r.passes)),
    latencyMs: summarize(rs.map((r) => r.timings.totalMs)),
  };
}

// 1. One session per photo, default options (the latency budget of 20 ms included).
const perPhoto = [];
const baselineMs = [];
const jpegMs = [];
const sessionMs = [];
for (const f of photos) {
  const { data, info } = await load(f);
  const frame = { type: 'video', format: 'rgb24', width: info.width, height: info.height, data };
  const s = engine.openSession();
  const r = await s.compressFrame(frame);
  s.close();
  perPhoto.push(r);
  if (r.codec === 'neural-image') {
    // Same process, same frame: the plain codec at the chosen level, and JPEG.
    sessionMs.push(r.timings.totalMs);
    let t = performance.now();
    const enc = await codec.encode(frame, { level: r.qualityLevel });
    await codec.decode(enc.payload);
    baselineMs.push(performance.now() - t);
    t = performance.now();
    const jpg = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).jpeg({ quality: 75 }).toBuffer();
    await sharp(jpg).raw().toBuffer();
    jpegMs.push(performance.now() - t);
  }
  process.stderr.write(`\rphotos: ${perPhoto.length}/${photos.length}  `);
}
process.stderr.write('\n');

// 2. One session for all photos, no latency budget (stills are not live).
// Every frame intra (interFrames: false): the photos are not a stream.
const oneSession = engine.openSession({ maxLatencyMs: Infinity, interFrames: false });
const allPhotos = [];
for (const f of photos) {
  const { data, info } = await load(f);
  allPhotos.push(await oneSession.compressFrame({ type: 'video', format: 'rgb24', width: info.width, height: info.height, data }));
}
oneSession.close();

// 3. Video: a slow pan over each of 4 photos, 640x360, 30 frames each, one session.
const video = [];
// The image codec's closed loop on every frame (interFrames: false); the README's example below
// runs at the defaults, predicted frames included.
const vs = engine.openSession({ maxLatencyMs: Infinity, interFrames: false });
let clips = 0;
for (const f of photos) {
  if (clips === 4) break;
  const { data, info } = await load(f);
  if (info.width < 700) continue; // landscape photos only
  clips++;
  for (let t = 0; t < 30; t++) {
    const left = Math.min(info.width - 640, t * 2);
    const top = Math.max(0, Math.floor((info.height - 360) / 2));
    const crop = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).extract({ left, top, width: 640, height: 360 }).raw().toBuffer();
    video.push(await vs.compressFrame({ type: 'video', format: 'rgb24', width: 640, height: 360, data: crop, fps: 30 }));
  }
}
const videoStats = vs.stats();
vs.close();

// 3b. The README's example: the same pans with default options (maxLatencyMs 20), 30 fps, and a
// 2.5 Mbit/s link reported with every frame; each frame's share of the link is a hard limit.
const live = [];
const ls = engine.openSession({ sessionId: 'call-1/alice/cam', mode: 'adaptive' });
const network = { availableBandwidthKbps: 2500, rttMs: 60, packetLossPercent: 1, jitterMs: 8 };
clips = 0;
for (const f of photos) {
  if (clips === 4) break;
  const { data, info } = await load(f);
  if (info.width < 700) continue;
  clips++;
  for (let t = 0; t < 30; t++) {
    const left = Math.min(info.width - 640, t * 2);
    const top = Math.max(0, Math.floor((info.height - 360) / 2));
    const crop = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).extract({ left, top, width: 640, height: 360 }).raw().toBuffer();
    live.push(await ls.compressFrame({ type: 'video', format: 'rgb24', width: 640, height: 360, data: crop, fps: 30 }, { network }));
  }
}
const liveShare = (ls.networkAnalysis().recommendation.maxBitrateKbps * 1000) / 8 / 30;
const liveKbps = (live.reduce((s, r) => s + r.compressedBytes, 0) * 8) / (live.length / 30) / 1000;
ls.close();

// 4. Speech through the session, 20 ms frames, default adaptive.
const speech = [];
for (const f of readdirSync(speechDir).filter((x) => x.endsWith('.wav')).sort().slice(0, limit)) {
  const { rate, channels } = readWav(path.join(speechDir, f));
  const sr = [8000, 16000, 32000, 48000].includes(rate) ? rate : 16000;
  const x = channels[0];
  const n = sr / 50;
  const s = engine.openSession();
  const frames = Math.floor(x.length / n);
  for (let i = 0; i < frames; i++) await s.compressFrame({ type: 'audio', format: 'f32le', sampleRate: sr, channels: 1, data: x.slice(i * n, (i + 1) * n) });
  const st = s.stats();
  speech.push({ file: f, frames, kbps: (st.bytesOut * 8) / (frames * 20), fallbacks: st.fallbacks.quality, notMet: st.framesQualityNotMet, meanScore: st.qualityScore.mean, p50LatencyMs: st.latencyMs.p50, p99LatencyMs: st.latencyMs.p99 });
  s.close();
}

const med = (a) => summarize(a).median;
const result = {
  machine: `${process.arch}, Node ${process.version}, ONNX Runtime ${engine.info().ortVersion}, CPU`,
  photos: {
    set: path.basename(path.resolve(imagesDir)),
    sessionPerPhotoDefault: tally(perPhoto),
    oneSessionNoLatencyBudget: tally(allPhotos),
    timeVsBaselines: { sessionMedianMs: med(sessionMs), plainCodecMedianMs: med(baselineMs), jpegMedianMs: med(jpegMs), sessionOverPlainCodec: med(sessionMs) / med(baselineMs), sessionOverJpeg: med(sessionMs) / med(jpegMs) },
  },
  readmeExample640x360: { ...tally(live, liveShare), linkShareBytes: liveShare, kbps: liveKbps },
  video640x360: { ...tally(video), onePassShareAfterFirst10: video.slice(10).filter((r) => r.passes === 1).length / Math.max(1, video.slice(10).length), passesPerFrame: videoStats.passesPerFrame },
  speech: {
    set: path.basename(path.resolve(speechDir)),
    clips: speech.length,
    meanKbps: speech.reduce((s, c) => s + c.kbps, 0) / Math.max(1, speech.length),
    fallbackShare: speech.reduce((s, c) => s + c.fallbacks, 0) / Math.max(1, speech.reduce((s, c) => s + c.frames, 0)),
    notMetShare: speech.reduce((s, c) => s + c.notMet, 0) / Math.max(1, speech.reduce((s, c) => s + c.frames, 0)),
    meanScore: speech.reduce((s, c) => s + c.meanScore, 0) / Math.max(1, speech.length),
    perClip: speech,
  },
};
await engine.close();

const p = result.photos;
const row = (name, t) =>
  console.log(
    `${name.padEnd(34)} frames ${String(t.frames).padStart(3)}  neural ${String(t.neural).padStart(3)}  fallbacks ${JSON.stringify(t.fallbacks)}  ratio med ${t.ratio.median.toFixed(4)}  ssim med ${t.ssimNeural ? t.ssimNeural.median.toFixed(4) : '-'} min ${t.ssimNeural ? t.ssimNeural.min.toFixed(4) : '-'}  passes med ${t.passes.median}  latency med ${t.latencyMs.median.toFixed(1)} p99 ${t.latencyMs.p99.toFixed(1)} ms  floor held ${t.floorHeld}`,
  );
console.log(result.machine);
row('photos, a session each (defaults)', p.sessionPerPhotoDefault);
row('photos, one session, no budget', p.oneSessionNoLatencyBudget);
console.log(`  session time / plain codec at the same level: ${p.timeVsBaselines.sessionOverPlainCodec.toFixed(2)}x; / JPEG q75: ${p.timeVsBaselines.sessionOverJpeg.toFixed(2)}x (medians ${p.timeVsBaselines.sessionMedianMs.toFixed(1)} / ${p.timeVsBaselines.plainCodecMedianMs.toFixed(1)} / ${p.timeVsBaselines.jpegMedianMs.toFixed(1)} ms)`);
row('video 640x360, one session', result.video640x360);
row('README example (20 ms, 2.5 Mbit/s, 30 fps)', result.readmeExample640x360);
console.log(`  codecs ${JSON.stringify(result.readmeExample640x360.codecs)}; ${result.readmeExample640x360.fitLink}/${live.length} frames within the link's share of ${liveShare.toFixed(0)} bytes; ${liveKbps.toFixed(0)} kbit/s`);
console.log(`  one pass on ${(result.video640x360.onePassShareAfterFirst10 * 100).toFixed(0)} % of frames after the first 10; ${result.video640x360.passesPerFrame.toFixed(2)} passes per frame overall`);
console.log(`speech (${result.speech.set}, ${result.speech.clips} clips, adaptive): ${result.speech.meanKbps.toFixed(1)} kbit/s mean, ${(result.speech.fallbackShare * 100).toFixed(1)} % of frames down the ladder for quality (Opus or lossless), ${(result.speech.notMetShare * 100).toFixed(1)} % of all frames under the floor, mean score ${result.speech.meanScore.toFixed(3)}`);
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(result, null, 2)}\n`);

