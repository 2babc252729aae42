// Seed corpus of the fuzz harnesses: real payloads of every kind that decodes today, made with the
// library's public API from dist/ (createEngine, sessions' compressFrame, the codecs' encoders) on
// small crops of ../shared/data (Kodak images, VCTK speech) and on synthetic frames.
//   node native/fuzz/make-corpus.mjs [out-dir = native/fuzz/corpus]
// Writes <out>/<harness>/<sha1> for parser (every payload; test/fuzz-api.mjs reads it too), entropy,
// image_decode, audio_decode, lossless, opus and inter_decode (predicted frames, the neural
// keyframes they are coded against, and range-coder inputs cut out of their bodies).
// Deterministic for the same data and build.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = resolve(process.argv[2] ?? join(root, 'native/fuzz/corpus'));
const shared = resolve(root, '../shared/data');
const { createEngine } = await import(join(root, 'dist/index.js'));
const sharp = (await import('sharp')).default;

const counts = {};
function save(harness, bytes) {
  const dir = join(out, harness);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, createHash('sha1').update(bytes).digest('hex')), bytes);
  counts[harness] = (counts[harness] ?? 0) + 1;
}
const CODEC_HARNESS = { 0: 'image_decode', 1: 'audio_decode', 2: 'lossless', 3: 'lossless', 6: 'opus', 7: 'inter_decode' };
// Sorts a payload into the harnesses that take it; neural bodies also seed the entropy harness.
function route(payload) {
  const p = Buffer.from(payload);
  save('parser', p);
  if (p[0] === 0xa5) {
    save('audio_decode', p);
    if (!(p[1] & 0x10)) entropyAudio(p.subarray(10, p.length - 2), p[2], 1 + ((p[1] >> 2) & 1));
    return;
  }
  if (p[0] === 0xa6 || p[0] === 0xa7) {
    // The compact form: level in byte 1's top bits; silence descriptors carry no coded bins.
    save('audio_decode', p);
    if (!(p[1] & 0x10)) entropyAudio(p.subarray(5, p.length - 2), p[1] >> 5, 1 + ((p[1] >> 2) & 1));
    return;
  }
  if (p[0] >= 0xa8 && p[0] <= 0xab) {
    // The compact predicted form (version 3; 0xAA/0xAB an I420 stream's, version 4).
    save('inter_decode', p);
    return;
  }
  const h = CODEC_HARNESS[p[7]];
  if (h) save(h, p);
  const body = p.subarray(40, p.length - 4);
  if (p[7] === 0) entropyImage(body, p[9], p.readUInt32LE(20), p.readUInt32LE(24));
  if (p[7] === 1) entropyAudio(body, p[9], p.readUInt32LE(24) >>> 16);
  if (p[7] === 7) rangeCoder(body.subarray(8));
}
// inter_decode_fuzz.cc's range-coder input: 'R', contexts - 1, schedule length - 1, schedule, stream.
// Schedules: one context, a few contexts with bypass runs, and many contexts.
function rangeCoder(stream) {
  const schedules = [[0], [0, 1, 2, 0xc7, 3, 0xc0, 4], Array.from({ length: 32 }, (_, i) => (i * 37) % 0xc8)];
  const s = schedules[counts.inter_decode % schedules.length];
  save('inter_decode', Buffer.concat([Buffer.from([0x52, 31, s.length - 1, ...s]), stream.subarray(0, 256)]));
}
function parts(body, count) {
  const lengths = [];
  for (let i = 0; i + 1 < count; i++) lengths.push(body.readUInt32LE(4 * i));
  let at = 4 * (count - 1);
  const res = [];
  for (let i = 0; i < count; i++) {
    const n = i + 1 < count ? lengths[i] : body.length - at;
    res.push(body.subarray(at, at + n));
    at += n;
  }
  return res;
}
// entropy_fuzz.cc's input: [table set | stride bit, level, rows - 1, columns - 1] + one stream.
function entropyImage(body, level, width, height) {
  const lh = (Math.ceil(height / 16) * 16) / 8, lw = (Math.ceil(width / 16) * 16) / 8;
  const bands = body[0];
  if (lw > 8) return;
  parts(body.subarray(1), bands).forEach((band, b) => {
    const rows = Math.floor(((b + 1) * lh) / bands) - Math.floor((b * lh) / bands);
    if (rows <= 8) save('entropy', Buffer.concat([Buffer.from([0, level, rows - 1, lw - 1]), band]));
  });
}
function entropyAudio(body, level, channels) {
  for (const part of parts(body, channels)) save('entropy', Buffer.concat([Buffer.from([1, level, 0, 0]), part]));
}

// ---- media ---------------------------------------------------------------------------------
async function crops() {
  const frames = [];
  const dir = join(shared, 'kodak');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.png')).sort().slice(0, 4) : [];
  const sizes = [[16, 16], [24, 20], [33, 17], [64, 64], [64, 48], [8, 40]];
  files.forEach((f, i) => frames.push({ file: join(dir, f), size: sizes[i % sizes.length], at: [100 + 37 * i, 200 + 23 * i] }));
  const res = [];
  for (const { file, size: [w, h], at: [x, y] } of frames) {
    const { data } = await sharp(file).extract({ left: x, top: y, width: w, height: h }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    res.push({ w, h, rgb: data });
  }
  // Synthetic: a gradient, noise, a flat frame, a 1x1 and a thin strip.
  const synth = (w, h, f) => {
    const rgb = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) rgb[(y * w + x) * 3 + c] = f(x, y, c) & 255;
    return { w, h, rgb };
  };
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16);
  res.push(synth(32, 32, (x, y, c) => x * 8 + y * 4 + c * 40), synth(48, 16, () => rnd()), synth(17, 9, () => 128), synth(1, 1, () => 200), synth(64, 2, (x) => x * 4));
  return res;
}
function asFormat({ w, h, rgb }, format) {
  if (format === 'rgb24') return rgb;
  if (format === 'rgba') {
    const o = Buffer.alloc(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      rgb.copy(o, i * 4, i * 3, i * 3 + 3);
      o[i * 4 + 3] = i % 7 === 0 ? 128 : 255;
    }
    return o;
  }
  // i420, BT.601 limited range.
  const cw = Math.ceil(w / 2), ch = Math.ceil(h / 2);
  const o = Buffer.alloc(w * h + 2 * cw * ch);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [r, g, b] = rgb.subarray((y * w + x) * 3, (y * w + x) * 3 + 3);
      o[y * w + x] = Math.round(16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255);
      if (x % 2 === 0 && y % 2 === 0) {
        const i = (y / 2) * cw + x / 2;
        o[w * h + i] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
        o[w * h + cw * ch + i] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
      }
    }
  return o;
}
function speech() {
  const dir = join(shared, 'speech/vctk');
  const file = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.wav')).sort()[0] : null;
  let pcm = new Int16Array(16000);
  if (file) {
    const wav = readFileSync(join(dir, file));
    let at = 12;
    while (at + 8 <= wav.length && wav.toString('latin1', at, at + 4) !== 'data') at += 8 + wav.readUInt32LE(at + 4);
    const data = wav.subarray(at + 8, at + 8 + Math.min(wav.readUInt32LE(at + 4), 16000 * 2 * 4));
    pcm = new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + (data.length & ~1)));
  } else {
    for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(8000 * Math.sin(i / 7) * Math.sin(i / 900));
  }
  return pcm;
}
// A 20 ms frame at `rate` x `channels` from 16 kHz mono speech starting at frame `k`.
function audioFrame(pcm, k, rate, channels, format) {
  const n = rate / 50;
  const bps = format === 'f32le' ? 4 : 2;
  const buf = Buffer.alloc(n * channels * bps);
  for (let i = 0; i < n; i++) {
    const s = pcm[(k * 320 + Math.floor((i * 16000) / rate)) % pcm.length];
    for (let c = 0; c < channels; c++) {
      const v = c ? -s : s;
      if (bps === 4) buf.writeFloatLE(v / 32768, (i * channels + c) * 4);
      else buf.writeInt16LE(v, (i * channels + c) * 2);
    }
  }
  return buf;
}

// ---- payloads ------------------------------------------------------------------------------
const engine = await createEngine({ cacheDir: false });
try {
  const image = engine.imageCodec();
  const audio = engine.audioCodec?.() ?? null;
  const frames = await crops();
  // Neural image through the codec at several levels and formats.
  let i = 0;
  for (const f of frames) {
    for (const format of ['rgb24', 'rgba', 'i420']) {
      const level = (i++ * 3) % image.levels;
      const { payload } = await image.encode({ data: asFormat(f, format), width: f.w, height: f.h, format }, { level });
      route(payload);
    }
  }
  // Sessions: adaptive (neural or fallback), a high floor (WebP / JPEG / Opus), lossless.
  const sessions = [
    engine.openSession({ verifyQuality: true }),
    engine.openSession({ minQualityScore: 0.999 }),
    engine.openSession({ minQualityScore: 0.999, fallbackCodec: 'lossless' }),
    engine.openSession({ mode: 'off' }),
  ];
  for (const s of sessions) {
    for (const [k, f] of frames.slice(0, 5).entries()) {
      const format = ['rgb24', 'rgba', 'i420'][k % 3];
      route((await s.compressFrame({ type: k % 2 ? 'screen' : 'video', format, width: f.w, height: f.h, data: asFormat(f, format) })).payload);
    }
    route((await s.compressFrame({ type: 'data', data: Buffer.from('aic fuzz seed ' + 'x'.repeat(100)) })).payload);
  }
  // Audio: every rate, mono and stereo, both formats; a stream's later frames take the short form.
  const pcm = speech();
  const audioSessions = [engine.openSession({}), engine.openSession({ minQualityScore: 0.999 }), engine.openSession({ mode: 'off' })];
  for (const [si, s] of audioSessions.entries()) {
    for (const [rate, channels, format] of [[16000, 1, 's16le'], [48000, 2, 'f32le'], [8000, 1, 'f32le'], [32000, 2, 's16le']]) {
      for (let k = 0; k < (si === 0 ? 4 : 2); k++) route((await s.compressFrame({ type: 'audio', sampleRate: rate, channels, format, data: audioFrame(pcm, 10 + k, rate, channels, format) })).payload);
    }
  }
  if (audio) {
    for (const [rate, channels] of [[16000, 1], [48000, 2]]) {
      const enc = audio.createEncoder(rate, channels);
      for (let k = 0; k < 4; k++) route((await enc.encode({ data: audioFrame(pcm, 20 + k, rate, channels, 's16le'), format: 's16le' }, { level: (k * 3) % audio.levels })).payload);
    }
    // Silence descriptors (dtx): a stream of faint noise after one frame, at a rate with and one
    // without high bands, the first in the full form (the stream's 51st frame), the rest short.
    for (const [rate, channels] of [[16000, 1], [48000, 2]]) {
      const enc = audio.createEncoder(rate, channels);
      let noise = 7;
      const faint = () => {
        const buf = Buffer.alloc((rate / 50) * channels * 2);
        for (let i = 0; i < buf.length / 2; i++) {
          noise = (noise * 1103515245 + 12345) >>> 0;
          buf.writeInt16LE(((noise >>> 16) % 61) - 30, i * 2);
        }
        return buf;
      };
      for (let k = 0; k < 53; k++) {
        const { payload } = await enc.encode({ data: faint(), format: 's16le' }, { level: 2, dtx: true });
        if (k === 30 || k >= 50) route(payload);
      }
    }
  }
  for (const s of [...sessions, ...audioSessions]) await s.close?.();
  // Predicted frames: a sender with interFrames on small crops that move a few pixels a frame. With
  // keyframeInterval 2 every predicted frame is coded against the neural keyframe just before it,
  // which inter_decode_fuzz.cc adopts as a reference (both go into its seeds).
  await interSeeds(engine);
} finally {
  await engine.close();
}
async function interSeeds(engine) {
  const dir = join(shared, 'kodak');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.png')).sort().slice(0, 3) : [];
  // The last two are I420 streams (version 4): compact, then the full form (a clock that goes back).
  const clips = [[32, 32, 2, 1], [48, 40, -3, 2], [64, 64, 1, -2], [40, 24, 4, 0], [34, 30, 2, 2], [48, 32, -1, 3]];
  for (const [c, [w, h, dx, dy]] of clips.entries()) {
    let big;
    if (files.length) big = await sharp(join(dir, files[c % files.length])).extract({ left: 200 + 40 * c, top: 150, width: w + 40, height: h + 40 }).removeAlpha().raw().toBuffer();
    else {
      big = Buffer.alloc((w + 40) * (h + 40) * 3);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7 + ((i / 3 / (w + 40)) | 0) * 5) & 255;
    }
    // Odd clips to a peer that reads version 2 only: predicted frames with the full header; the
    // others in the compact form (version 3).
    const caps = engine.capabilities();
    const i420 = c >= 4;
    const peerCapabilities = c % 2 && !i420 ? { ...caps, bitstreamVersions: [1, 2] } : undefined;
    const s = engine.openSession({ interFrames: true, keyframeInterval: 2, maxLatencyMs: Infinity, ...(peerCapabilities ? { peerCapabilities } : {}) });
    const format = i420 ? 'i420' : c % 2 ? 'rgba' : 'rgb24';
    for (let k = 0; k < 4; k++) {
      const x0 = 20 + dx * k, y0 = 20 + dy * k;
      const rgb = Buffer.alloc(w * h * 3);
      for (let y = 0; y < h; y++) big.copy(rgb, y * w * 3, ((y + y0) * (w + 40) + x0) * 3, ((y + y0) * (w + 40) + x0 + w) * 3);
      const data = format === 'rgba' ? asFormat({ w, h, rgb }, 'rgba').map((v, i) => (i % 4 === 3 ? 255 : v)) : format === 'i420' ? asFormat({ w, h, rgb }, 'i420') : rgb;
      const timestamp = c === 5 ? 100_000 - 1000 * k : 33_333 * k;
      const r = await s.compressFrame({ type: c === 3 || c === 5 ? 'screen' : 'video', format, width: w, height: h, data, timestamp });
      route(r.payload);
      if (r.codec === 'neural-image') save('inter_decode', Buffer.from(r.payload));
    }
    await s.close?.();
  }
}

// Without models every frame goes down the conventional ladder: WebP / JPEG and Opus payloads.
const plain = await createEngine({ cacheDir: false, models: { image: false, audio: false } });
try {
  const frames = await crops();
  for (const opts of [{}, { minQualityScore: 0.6 }, { mode: 'aggressive' }]) {
    const s = plain.openSession(opts);
    for (const [k, f] of frames.entries()) {
      const format = ['rgb24', 'rgba', 'i420'][k % 3];
      route((await s.compressFrame({ type: 'video', format, width: f.w, height: f.h, data: asFormat(f, format) })).payload);
    }
    const pcm = speech();
    for (const [rate, channels, format] of [[16000, 1, 's16le'], [48000, 2, 'f32le'], [8000, 1, 'f32le'], [32000, 2, 's16le']]) {
      for (let k = 0; k < 3; k++) route((await s.compressFrame({ type: 'audio', sampleRate: rate, channels, format, data: audioFrame(pcm, 30 + k, rate, channels, format) })).payload);
    }
    await s.close?.();
  }
} finally {
  await plain.close();
}
console.log(`corpus written to ${out}: ${JSON.stringify(counts)}`);
