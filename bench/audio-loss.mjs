// Packet loss: what a receiver plays when frames never arrive, ours against libopus's own
// concealment, on the same frames and the same loss patterns. VCTK (evaluation only) at 16 kHz,
// our codec at a level and Opus (VOIP, VBR, 20 ms, our native libopus) at a bitrate near its rate;
// random loss (1, 5, 10, 20 %) and bursts (a two-state Gilbert model with 3-frame mean bursts at
// 5, 10 and 20 % average loss), the same pattern for both codecs on a file. Measures: the
// project's score, STOI, LSD (bench/audio-measures.mjs), over the whole file.
//   npm run build && node bench/audio-loss.mjs [--audio ../shared/data/speech/vctk] [--limit N] [--level L] [--opus KBPS] [--json FILE]
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readWav } from './wav.mjs';
import { resampleTo, spectralMeasures, stoi } from './audio-measures.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const dir = path.resolve(arg('audio', path.join(root, '..', 'shared', 'data', 'speech', 'vctk')));
const limit = Number(arg('limit', 0));
const RATE = 16000, N = RATE / 50;
const aic = await import(path.join(root, 'dist', 'index.js'));
const { OpusEncoder, OpusDecoder } = await import(path.join(root, 'dist', 'conventional', 'opus.js'));
const engine = await aic.createEngine({ executionProvider: 'cpu', models: { image: false, inter: false } });
const codec = engine.audioCodec();
const level = Number(arg('level', codec.defaultLevel));
const opusKbps = Number(arg('opus', 24));

// Loss patterns: f -> lost?, deterministic per (kind, rate, file).
function lcg(seed) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
}
function randomLoss(p, seed) {
  const r = lcg(seed);
  return () => r() < p;
}
// Gilbert: good -> bad with probability q, bad -> good with 1/3 (mean burst 3); loss in bad only.
function burstLoss(p, seed) {
  const r = lcg(seed);
  const leave = 1 / 3, enter = (p * leave) / (1 - p);
  let bad = false;
  return () => ((bad = bad ? r() >= leave : r() < enter), bad);
}
const PATTERNS = [
  ['none', 0, () => () => false],
  ...[0.01, 0.05, 0.1, 0.2].map((p) => [`random ${p * 100} %`, p, (seed) => randomLoss(p, seed)]),
  ...[0.05, 0.1, 0.2].map((p) => [`burst ${p * 100} %`, p, (seed) => burstLoss(p, seed)]),
];

function s16(x, at) {
  const b = Buffer.alloc(N * 2);
  for (let i = 0; i < N; i++) b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x[at + i] ?? 0)) * 32767), i * 2);
  return b;
}
function place(y, at, data) {
  for (let i = 0; i < N && at + i < y.length; i++) if (at + i >= 0) y[at + i] = data.readInt16LE(i * 2) / 32768;
}
function measure(x, y) {
  return { score: aic.audioQuality(x, y, RATE).score, stoi: stoi(x, y, RATE), lsdDb: spectralMeasures(x, y, RATE).lsdDb };
}

async function ours(x, lost) {
  const enc = codec.createEncoder(RATE, 1), dec = codec.createDecoder();
  const y = new Float32Array(x.length), delay = codec.delaySamples(RATE);
  let lostFrames = 0;
  for (let f = 0, at = 0; at + N <= x.length; f++, at += N) {
    const { payload } = await enc.encode({ data: s16(x, at), format: 's16le' }, { level });
    const gone = f > 0 && lost();
    lostFrames += gone;
    const d = gone ? await dec.conceal() : await dec.decode(payload);
    place(y, at - delay, d.data);
  }
  return { ...measure(x, y), lost: lostFrames };
}
async function opus(x, lost) {
  const enc = new OpusEncoder(RATE, 1), dec = new OpusDecoder(RATE, 1);
  const y = new Float32Array(x.length), delay = enc.delaySamples;
  for (let f = 0, at = 0; at + N <= x.length; f++, at += N) {
    const { packet } = await enc.encode(s16(x, at), 's16le', opusKbps);
    const gone = f > 0 && lost();
    const d = gone ? await dec.conceal('s16le') : await dec.decode(packet, 's16le');
    place(y, at - delay, d.data);
  }
  return measure(x, y);
}

const files = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort().slice(0, limit || undefined);
const rows = PATTERNS.map(([name, p]) => ({ pattern: name, loss: p, aic: [], opus: [], lostShare: [] }));
for (const [i, f] of files.entries()) {
  const w = readWav(path.join(dir, f));
  const x = resampleTo(w.channels[0], w.rate, RATE);
  for (const [k, [, , make]] of PATTERNS.entries()) {
    const a = await ours(x, make(7919 * (i + 1) + k));
    rows[k].aic.push(a);
    rows[k].lostShare.push(a.lost / Math.floor(x.length / N));
    rows[k].opus.push(await opus(x, make(7919 * (i + 1) + k)));
  }
  process.stderr.write(`\r${i + 1}/${files.length} files   `);
}
process.stderr.write('\n');
const mean = (ps, key) => ps.reduce((s, p) => s + p[key], 0) / ps.length;
const table = rows.map((r) => ({
  pattern: r.pattern,
  lost: r.lostShare.reduce((a, b) => a + b, 0) / r.lostShare.length,
  aic: { score: mean(r.aic, 'score'), stoi: mean(r.aic, 'stoi'), lsdDb: mean(r.aic, 'lsdDb') },
  opus: { score: mean(r.opus, 'score'), stoi: mean(r.opus, 'stoi'), lsdDb: mean(r.opus, 'lsdDb') },
}));
console.log(`${path.basename(dir)} (${files.length} files, 16 kHz): aic level ${level} against Opus ${opusKbps} kbit/s, each concealing its lost frames`);
console.log('| loss | frames lost | aic score | Opus score | aic STOI | Opus STOI | aic LSD dB | Opus LSD dB |');
console.log('|---|---|---|---|---|---|---|---|');
for (const t of table) console.log(`| ${t.pattern} | ${(100 * t.lost).toFixed(1)} % | ${t.aic.score.toFixed(3)} | ${t.opus.score.toFixed(3)} | ${t.aic.stoi.toFixed(3)} | ${t.opus.stoi.toFixed(3)} | ${t.aic.lsdDb.toFixed(2)} | ${t.opus.lsdDb.toFixed(2)} |`);
const jsonOut = arg('json');
if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ command: process.argv.slice(2).join(' '), date: new Date().toISOString(), files: files.length, level, opusKbps, rows: table }, null, 1) + '\n');
await engine.close();
