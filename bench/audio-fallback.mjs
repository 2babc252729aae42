// The audio session on real media: level over time, fallback rates, codecs and bytes per clip,
// the cost of one 20 ms frame of Opus against the neural codec, and damaged input (beeps,
// dropouts, clicks, clipping) through a session.
//
//   npm run build && node bench/audio-fallback.mjs [--data ../shared/data]
import { readdirSync } from 'node:fs';
import path from 'node:path';
import * as aic from '../dist/index.js';
import { readWav, resample } from '../dist/cli/wav.js';
import { OpusDecoder, OpusEncoder } from '../dist/conventional/opus.js';

const data = path.resolve(process.argv.includes('--data') ? process.argv[process.argv.indexOf('--data') + 1] : '../shared/data');
const engine = await aic.createEngine({ executionProvider: 'cpu', models: { image: false } });

function load(file, rate) {
  const w = readWav(file);
  return w.channels.map((c) => resample(c, w.sampleRate, rate));
}
function s16(chs, at, n) {
  const b = Buffer.alloc(n * chs.length * 2);
  for (let i = 0; i < n; i++) for (let c = 0; c < chs.length; c++) b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, chs[c][at + i] ?? 0)) * 32767), (i * chs.length + c) * 2);
  return b;
}
async function stream(chs, rate, opts = {}) {
  const s = engine.openSession(opts);
  const n = rate / 50;
  const levels = [];
  const codecs = {};
  let bytes = 0;
  let inBytes = 0;
  for (let at = 0; at + n <= chs[0].length; at += n) {
    const r = await s.compressFrame({ type: 'audio', format: 's16le', sampleRate: rate, channels: chs.length, data: s16(chs, at, n) });
    levels.push(r.codec === 'neural-audio' ? r.qualityLevel : -1);
    codecs[r.codec] = (codecs[r.codec] ?? 0) + 1;
    bytes += r.compressedBytes;
    inBytes += r.originalBytes;
  }
  const st = s.stats();
  s.close();
  return { levels, codecs, ratio: 1 - bytes / inBytes, fallbackRate: st.framesFallback / st.framesProcessed, notMet: st.framesQualityNotMet, frames: st.framesProcessed, kbps: (bytes * 8) / (st.framesProcessed * 20) };
}

console.log('## sessions (adaptive, floor 0.85)');
for (const [set, rate] of [['speech/vctk', 16000], ['music', 48000]]) {
  const dir = path.join(data, set);
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.wav')).sort()) {
    const chs = load(path.join(dir, f), rate);
    const r = await stream(chs, rate);
    console.log(`${set}/${f} ${rate} Hz x${chs.length}: ${r.frames} frames, ${r.kbps.toFixed(1)} kbit/s, ratio ${r.ratio.toFixed(3)}, fallback ${(100 * r.fallbackRate).toFixed(1)} %, not met ${r.notMet}, codecs ${JSON.stringify(r.codecs)}, level@25 ${r.levels[24]}, last ${r.levels.at(-1)}`);
  }
}

console.log('## cost per 20 ms frame (16 kHz mono and 48 kHz stereo, 500 frames)');
const speech = load(path.join(data, 'speech/vctk/p225_001.wav'), 48000);
for (const [rate, ch] of [[16000, 1], [48000, 2]]) {
  const chs = load(path.join(data, 'speech/vctk/p225_001.wav'), rate);
  const both = ch === 2 ? [chs[0], chs[0]] : chs;
  const n = rate / 50;
  const frames = Array.from({ length: 500 }, (_, k) => s16(both, (k * n) % (both[0].length - n), n));
  const codec = engine.audioCodec();
  const enc = codec.createEncoder(rate, ch);
  const dec = codec.createDecoder();
  let t = performance.now();
  for (const f of frames) dec.decodeSync(enc.encodeSync({ data: f, format: 's16le' }, { level: 4 }).payload);
  const neural = (performance.now() - t) / frames.length;
  const oe = new OpusEncoder(rate, ch);
  const od = new OpusDecoder(rate, ch);
  t = performance.now();
  for (const f of frames) {
    const { packet } = await oe.encode(f, 's16le', 24 * ch);
    await od.decode(packet, 's16le');
  }
  const opus = (performance.now() - t) / frames.length;
  console.log(`${rate} Hz x${ch}: neural level 4 encode+decode ${neural.toFixed(3)} ms, Opus 24 kbit/s/ch encode+decode ${opus.toFixed(3)} ms (async, queue included)`);
}
void speech;
await engine.close();
