// Rate-quality evaluation of the audio codec beside Opus (Debian's opus-tools: opusenc/opusdec,
// libopus) at the same bitrates, on folders of WAV files. Files are downmixed to mono and
// resampled to each stream rate of --rates (default 16000,48000), 20 ms frames; at 48 kHz our
// encoder takes the 48 kHz stream as a session would (it codes 16 kHz inside) and Opus codes it
// full-band. Reports kbit/s against the project's audio score and SI-SNR
// (native/core/audio/audio_metrics.h) and the independent measures of bench/audio-measures.mjs:
// STOI, ESTOI, the log-spectral distance, the spectral-hole fraction and band loss (over the
// whole band; at 48 kHz also within 8 kHz, the band our codec carries), and the per-frame encode
// + decode time of ours. The packet-loss curve is at 16 kHz.
//
//   npm run eval:audio -- --audio ../shared/data/speech/vctk,../shared/data/music \
//        --json docs/results/audio.json --plot docs/results/audio.svg [--limit N] [--rates 16000,48000]
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
import { readWav, writeWav16 } from './wav.mjs';
import { arg } from './args.mjs';
import { estoi, resampleTo, spectralMeasures, stoi } from './audio-measures.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const dirs = arg('audio', path.join(root, '..', 'shared', 'data', 'speech', 'vctk')).split(',');
const jsonOut = arg('json');
const plotOut = arg('plot');
const limit = Number(arg('limit', 0));
const OPUS_KBPS = [6, 8, 12, 16, 24, 32, 48, 64];
const LOSS_RATES = [0, 0.01, 0.05, 0.1];
const RATES = arg('rates', '16000,48000').split(',').map(Number);

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

/** Every measure of a decoded signal y against x at `rate`. */
function measures(x, y, rate) {
  const q = aic.audioQuality(x, y, rate);
  const s = spectralMeasures(x, y, rate);
  const m = { score: q.score, siSnrDb: q.siSnrDb, logMelDistanceDb: q.logMelDistanceDb, stoi: stoi(x, y, rate), estoi: estoi(x, y, rate), lsdDb: s.lsdDb, holeFraction: s.holeFraction, bandLoss: s.bandLoss };
  if (rate > 16000) {
    const b = spectralMeasures(x, y, rate, 8000);
    Object.assign(m, { lsd8kDb: b.lsdDb, holeFraction8k: b.holeFraction });
  }
  return m;
}

async function ours(x, RATE, level, lost = () => false) {
  const N = RATE / 50;
  const enc = codec.createEncoder(RATE, 1);
  const dec = codec.createDecoder();
  const frames = Math.floor(x.length / N);
  const y = new Float32Array(frames * N);
  let payloadBytes = 0;
  let bodyBytes = 0;
  for (let f = 0; f < frames; f++) {
    const t0 = process.hrtime.bigint();
    // A live stream's clock: 20 ms a frame (the payloads take the compact form between full headers).
    const { payload } = await enc.encode({ data: x.subarray(f * N, (f + 1) * N), format: 'f32le' }, { level, timestamp: f * 20000 });
    // A lost packet never reaches the decoder, which conceals it instead.
    const d = f > 0 && lost() ? await dec.conceal() : await dec.decode(payload);
    frameTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    payloadBytes += payload.length;
    bodyBytes += aic.parsePayloadHeader(payload).bodyLength;
    y.set(new Float32Array(d.data.buffer, d.data.byteOffset, N), f * N);
  }
  const seconds = frames / 50;
  // The decoder lags by the codec's delay (one frame at 16 kHz; one frame and the resamplers'
  // delays at other rates): compare the input with the output that far later.
  const delay = codec.delaySamples(RATE);
  const len = frames * N - delay;
  const q = measures(x.subarray(0, len), y.subarray(delay, delay + len), RATE);
  return { kbps: (bodyBytes * 8) / seconds / 1000, payloadKbps: (payloadBytes * 8) / seconds / 1000, ...q };
}

function opus(x, RATE, kbps, name) {
  const wav = path.join(work, `${name}.wav`);
  const enc = path.join(work, `${name}.opus`);
  const dec = path.join(work, `${name}.dec.wav`);
  writeWav16(wav, RATE, x);
  execFileSync('opusenc', ['--quiet', '--bitrate', String(kbps), '--framesize', '20', wav, enc]);
  execFileSync('opusdec', ['--quiet', '--rate', String(RATE), enc, dec]);
  const y = readWav(dec).channels[0];
  const len = Math.min(x.length, y.length);
  const q = measures(x.subarray(0, len), y.subarray(0, len), RATE);
  return { kbps: (statSync(enc).size * 8) / (x.length / RATE) / 1000, ...q };
}

const KEYS = ['score', 'siSnrDb', 'logMelDistanceDb', 'stoi', 'estoi', 'lsdDb', 'holeFraction', 'bandLoss', 'lsd8kDb', 'holeFraction8k'];
const datasets = [];
for (const RATE of RATES) {
  for (const dir of dirs) {
    const files = readdirSync(dir).filter((f) => f.endsWith('.wav')).sort().slice(0, limit || undefined);
    const rows = { aic: new Map(), opus: new Map(), loss: new Map() };
    const add = (c, k, p) => (rows[c].has(k) ? rows[c].get(k) : rows[c].set(k, []).get(k)).push(p);
    for (const [i, f] of files.entries()) {
      const { rate, channels } = readWav(path.join(dir, f));
      const mono = channels.length === 1 ? channels[0] : channels[0].map((v, j) => channels.reduce((s, c) => s + c[j], 0) / channels.length);
      const x = resampleTo(mono, rate, RATE);
      for (let level = 0; level < codec.levels; level++) add('aic', level, await ours(x, RATE, level));
      if (RATE === 16000) for (const loss of LOSS_RATES) add('loss', loss, await ours(x, RATE, codec.defaultLevel, lossPattern(loss, 1000 + i)));
      for (const k of OPUS_KBPS) add('opus', k, opus(x, RATE, k, `f${i}`));
      process.stderr.write(`\r${path.basename(dir)} at ${RATE / 1000} kHz: ${i + 1}/${files.length}   `);
    }
    process.stderr.write('\n');
    const mean = (ps, key) => ps.reduce((s, p) => s + p[key], 0) / ps.length;
    const curve = (c) =>
      [...rows[c].entries()].map(([setting, ps]) => ({
        setting,
        kbps: mean(ps, 'kbps'),
        ...(c === 'aic' ? { payloadKbps: mean(ps, 'payloadKbps') } : {}),
        ...Object.fromEntries(KEYS.filter((k) => ps[0][k] !== undefined).map((k) => [k, mean(ps, k)])),
      }));
    datasets.push({ name: path.basename(path.resolve(dir)), rate: RATE, files: files.length, aic: curve('aic'), opus: curve('opus'), ...(RATE === 16000 ? { loss: { level: codec.defaultLevel, points: curve('loss') } } : {}) });
  }
}
rmSync(work, { recursive: true, force: true });

const timing = summarize(frameTimes);
const opusVersion = execFileSync('opusenc', ['--version']).toString().split('\n')[0];
for (const d of datasets) {
  const wide = d.rate > 16000;
  console.log(`\n${d.name} (${d.files} files, ${d.rate / 1000} kHz mono)`);
  console.log(`| codec | setting | kbit/s | (payload) | score | SI-SNR dB | STOI | ESTOI | LSD dB | holes % | band loss % |${wide ? ' LSD <=8k dB | holes <=8k % |' : ''}`);
  console.log(`|---|---|---|---|---|---|---|---|---|---|---|${wide ? '---|---|' : ''}`);
  const row = (codecName, setting, p) =>
    `| ${codecName} | ${setting} | ${p.kbps.toFixed(1)} | ${p.payloadKbps !== undefined ? `(${p.payloadKbps.toFixed(1)})` : ''} | ${p.score.toFixed(3)} | ${p.siSnrDb.toFixed(2)} | ${p.stoi.toFixed(3)} | ${p.estoi.toFixed(3)} | ${p.lsdDb.toFixed(2)} | ${(100 * p.holeFraction).toFixed(1)} | ${(100 * p.bandLoss).toFixed(1)} |` +
    (wide ? ` ${p.lsd8kDb.toFixed(2)} | ${(100 * p.holeFraction8k).toFixed(1)} |` : '');
  for (const p of d.aic) console.log(row('aic', `level ${p.setting}`, p));
  for (const p of d.opus) console.log(row('Opus', `${p.setting} kbit/s`, p));
  if (d.loss) console.log(`random packet loss at level ${d.loss.level} (concealed): ${d.loss.points.map((p) => `${(p.setting * 100).toFixed(0)}% -> score ${p.score.toFixed(3)}, SI-SNR ${p.siSnrDb.toFixed(2)} dB, STOI ${p.stoi.toFixed(3)}`).join('; ')}`);
}
console.log(`\nencode + decode of one 20 ms frame (aic, all rates): median ${timing.median.toFixed(3)} ms, p99 ${timing.p99.toFixed(3)} ms over ${timing.n} frames`);
const result = { model: `${codec.name}@${codec.version}`, opus: opusVersion, rates: RATES, limit: limit || null, frameTiming: timing, datasets };
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
      title: `Audio at 16 kHz: ${datasets.filter((d) => d.rate === 16000).map((d) => d.name).join(', ')}`,
      xLabel: 'kbit/s (aic: coded body; Opus: .opus file)',
      xKey: 'kbps',
      panels: [
        { yLabel: 'audio score', key: 'score' },
        { yLabel: 'SI-SNR (dB)', key: 'siSnrDb' },
      ],
      series: datasets.filter((d) => d.rate === 16000).flatMap((d, i) => [
        { name: `aic ${d.name}`, color: colors[(2 * i) % 4], points: d.aic },
        { name: `Opus ${d.name}`, color: colors[(2 * i + 1) % 4], points: d.opus },
      ]),
    }),
  );
}
await engine.close();
