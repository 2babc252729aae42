// Rate-quality evaluation of the audio codec beside Opus (Debian's opus-tools: opusenc/opusdec,
// libopus) at the same bitrates, on folders of WAV files. Everything is coded as 16 kHz mono
// (files are downmixed and resampled first), 20 ms frames. Reports kbit/s against SI-SNR and the
// audio score (native/core/audio/audio_metrics.h), and the per-frame encode + decode time of ours.
//
//   npm run eval:audio -- --audio ../shared/data/speech/vctk,../shared/data/music \
//        --json docs/results/audio.json --plot docs/results/audio.svg
//
// Our rates are quoted two ways: the payload (with its aic framing: 12 bytes per frame in the short
// audio form, 44 in the full one sent once a second; 5.1 kbit/s at 50 frames/s) and the coded body
// alone, which is what compares with Opus's own packet bytes; Opus's figure is the .opus file size
// (including Ogg framing) over the clip's duration.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderRdPlot } from './rd-plot.mjs';
import { summarize } from './stats.mjs';
import { readWav, resample, writeWav16 } from './wav.mjs';
import { arg } from './args.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dirs = arg('audio', path.join(root, '..', 'shared', 'data', 'speech', 'vctk')).split(',');
const jsonOut = arg('json');
const plotOut = arg('plot');
const limit = Number(arg('limit', 0));
const OPUS_KBPS = [6, 8, 12, 16, 24, 32, 48, 64];
const LOSS_RATES = [0, 0.01, 0.05, 0.1];
const RATE = 16000;
const N = RATE / 50;

const aic = await import(path.join(root, 'dist', 'index.js'));
const engine = await aic.createEngine({ executionProvider: 'cpu' });
const codec = await engine.loadAudioCodec(arg('model', aic.DEFAULT_AUDIO_MODEL));
const work = mkdtempSync(path.join(tmpdir(), 'aic-audio-eval-'));
const frameTimes = [];

/** Deterministic loss pattern: frame f is lost with probability `rate` (seeded per file). */
function lossPattern(rate, seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 < rate;
  };
}

async function ours(x, level, lost = () => false) {
  const enc = codec.createEncoder(RATE, 1);
  const dec = codec.createDecoder();
  const frames = Math.floor(x.length / N);
  const y = new Float32Array(frames * N);
  let payloadBytes = 0;
  let bodyBytes = 0;
  for (let f = 0; f < frames; f++) {
    const t0 = process.hrtime.bigint();
    const { payload } = await enc.encode({ data: x.subarray(f * N, (f + 1) * N), format: 'f32le' }, { level });
    // A lost packet never reaches the decoder, which conceals it instead.
    const d = f > 0 && lost() ? await dec.conceal() : await dec.decode(payload);
    frameTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    payloadBytes += payload.length;
    bodyBytes += aic.parsePayloadHeader(payload).bodyLength;
    y.set(new Float32Array(d.data.buffer, d.data.byteOffset, N), f * N);
  }
  const seconds = frames / 50;
  // The decoder lags one frame: compare input frames 0..F-2 with output frames 1..F-1.
  const len = (frames - 1) * N;
  const q = aic.audioQuality(x.subarray(0, len), y.subarray(N, N + len), RATE);
  return { kbps: (bodyBytes * 8) / seconds / 1000, payloadKbps: (payloadBytes * 8) / seconds / 1000, ...q };
}

function opus(x, kbps, name) {
  const wav = path.join(work, `${name}.wav`);
  const enc = path.join(work, `${name}.opus`);
  const dec = path.join(work, `${name}.dec.wav`);
  writeWav16(wav, RATE, x);
  execFileSync('opusenc', ['--quiet', '--bitrate', String(kbps), '--framesize', '20', wav, enc]);
  execFileSync('opusdec', ['--quiet', '--rate', String(RATE), enc, dec]);
  const y = readWav(dec).channels[0];
  const len = Math.min(x.length, y.length);
  const q = aic.audioQuality(x.subarray(0, len), y.subarray(0, len), RATE);
  return { kbps: (statSync(enc).size * 8) / (x.length / RATE) / 1000, ...q };
}

const datasets = [];
for (const dir of dirs) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort().slice(0, limit || undefined);
  const rows = { aic: new Map(), opus: new Map(), loss: new Map() };
  const add = (c, k, p) => (rows[c].has(k) ? rows[c].get(k) : rows[c].set(k, []).get(k)).push(p);
  for (const [i, f] of files.entries()) {
    const { rate, channels } = readWav(path.join(dir, f));
    const mono = channels.length === 1 ? channels[0] : channels[0].map((v, j) => channels.reduce((s, c) => s + c[j], 0) / channels.length);
    const x = resample(mono, rate, RATE);
    for (let level = 0; level < codec.levels; level++) add('aic', level, await ours(x, level));
    for (const rate of LOSS_RATES) add('loss', rate, await ours(x, codec.defaultLevel, lossPattern(rate, 1000 + i)));
    for (const k of OPUS_KBPS) add('opus', k, opus(x, k, `f${i}`));
    process.stderr.write(`\r${path.basename(dir)}: ${i + 1}/${files.length}   `);
  }
  process.stderr.write('\n');
  const mean = (ps, key) => ps.reduce((s, p) => s + p[key], 0) / ps.length;
  const curve = (c) => [...rows[c].entries()].map(([setting, ps]) => ({ setting, kbps: mean(ps, 'kbps'), ...(c === 'aic' ? { payloadKbps: mean(ps, 'payloadKbps') } : {}), score: mean(ps, 'score'), siSnrDb: mean(ps, 'siSnrDb'), logMelDistanceDb: mean(ps, 'logMelDistanceDb') }));
  datasets.push({ name: path.basename(path.resolve(dir)), files: files.length, aic: curve('aic'), opus: curve('opus'), loss: { level: codec.defaultLevel, points: curve('loss') } });
}
rmSync(work, { recursive: true, force: true });

const timing = summarize(frameTimes);
const opusVersion = execFileSync('opusenc', ['--version']).toString().split('\n')[0];
for (const d of datasets) {
  console.log(`\n${d.name} (${d.files} files, 16 kHz mono)`);
  console.log('codec  setting   kbit/s (payload)   score   SI-SNR dB   log-mel dB');
  for (const p of d.aic) console.log(`aic    L${p.setting}       ${p.kbps.toFixed(1).padStart(6)} (${p.payloadKbps.toFixed(1).padStart(5)})   ${p.score.toFixed(3)}   ${p.siSnrDb.toFixed(2).padStart(8)}   ${p.logMelDistanceDb.toFixed(2).padStart(8)}`);
  for (const p of d.opus) console.log(`opus   ${String(p.setting).padStart(3)}k      ${p.kbps.toFixed(1).padStart(6)}           ${p.score.toFixed(3)}   ${p.siSnrDb.toFixed(2).padStart(8)}   ${p.logMelDistanceDb.toFixed(2).padStart(8)}`);
  console.log(`random packet loss at level ${d.loss.level} (concealed): ${d.loss.points.map((p) => `${(p.setting * 100).toFixed(0)}% -> score ${p.score.toFixed(3)}, SI-SNR ${p.siSnrDb.toFixed(2)} dB`).join('; ')}`);
}
console.log(`\nencode + decode of one 20 ms frame (aic, 16 kHz mono): median ${timing.median.toFixed(3)} ms, p99 ${timing.p99.toFixed(3)} ms over ${timing.n} frames`);
const result = { model: `${codec.name}@${codec.version}`, opus: opusVersion, rate: RATE, frameTiming: timing, datasets };
if (jsonOut) {
  mkdirSync(path.dirname(path.resolve(jsonOut)), { recursive: true });
  writeFileSync(jsonOut, JSON.stringify(result, null, 1));
}
if (plotOut) {
  mkdirSync(path.dirname(path.resolve(plotOut)), { recursive: true });
  const colors = ['#d62728', '#1f77b4', '#ff7f0e', '#2ca02c'];
  writeFileSync(
    plotOut,
    renderRdPlot({
      title: `Audio at 16 kHz: ${datasets.map((d) => d.name).join(', ')}`,
      xLabel: 'kbit/s (aic: coded body; Opus: .opus file)',
      xKey: 'kbps',
      panels: [
        { yLabel: 'audio score', key: 'score' },
        { yLabel: 'SI-SNR (dB)', key: 'siSnrDb' },
      ],
      series: datasets.flatMap((d, i) => [
        { name: `aic ${d.name}`, color: colors[(2 * i) % 4], points: d.aic },
        { name: `Opus ${d.name}`, color: colors[(2 * i + 1) % 4], points: d.opus },
      ]),
    }),
  );
}
await engine.close();
