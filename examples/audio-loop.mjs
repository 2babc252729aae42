// Codes a WAV file as a live audio stream: 20 ms frames through a sending session, over a
// simulated network whose conditions change mid-way (a good link, then a congested and lossy
// one, then recovery), into a receiving session that conceals the packets the network drops.
// Prints, per second of audio, the link, the mode the session chose, the bit rate and the
// measured score, and writes what the receiver played.
//
//   node examples/audio-loop.mjs [speech.wav] [--out played.wav] [--realtime]
//
// Without an argument it uses ../shared/data/speech/vctk/p226_003.wav (8 s) when present, else a
// generated speech-like signal.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const aic = await import(path.join(root, 'dist', 'index.js'));
const { readWav, writeWav, resample, codedRate } = await import(path.join(root, 'dist', 'cli', 'wav.js'));

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 1) && true : false;
};
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const realtime = flag('--realtime');
const out = option('--out');
const defaultWav = path.join(root, '..', 'shared', 'data', 'speech', 'vctk', 'p226_003.wav');
const input = args[0] ?? (existsSync(defaultWav) ? defaultWav : null);

if (args[0] && !existsSync(args[0])) {
  console.error(`no such file: ${args[0]}\nusage: node examples/audio-loop.mjs [speech.wav] [--out played.wav] [--realtime]`);
  process.exit(1);
}

let rate;
let signal;
if (input) {
  const wav = readWav(input);
  rate = codedRate(wav.sampleRate);
  signal = resample(wav.channels[0], wav.sampleRate, rate);
} else {
  rate = 16000;
  signal = new Float32Array(rate * 4);
  let phase = 0;
  for (let i = 0; i < signal.length; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * (130 + 30 * Math.sin(2 * Math.PI * 0.5 * t))) / rate;
    let v = 0;
    for (let h = 1; h <= 10; h++) v += Math.sin(h * phase) / h;
    signal[i] = 0.2 * Math.sin(Math.PI * ((t * 3) % 1)) ** 2 * v;
  }
}

// The network over time: a good link, congestion with loss from 35 % to 70 % of the clip, recovery.
const link = (progress) =>
  progress < 0.35
    ? { availableBandwidthKbps: 8000, rttMs: 30, packetLossPercent: 0, jitterMs: 3 }
    : progress < 0.7
      ? { availableBandwidthKbps: 400, rttMs: 180, packetLossPercent: 8, jitterMs: 40 }
      : { availableBandwidthKbps: 6000, rttMs: 40, packetLossPercent: 0.5, jitterMs: 5 };

const engine = await aic.createEngine();
const sender = engine.openSession({ sessionId: 'loop/tx' });
const receiver = engine.openSession({ sessionId: 'loop/rx' });
const n = rate / 50;
const frames = Math.floor(signal.length / n);
// What the receiver plays, on one timeline: each decoded frame goes where its offsetSamples says
// (neural frames trail by the codec's delay, lossless ones do not; lossless samples win overlaps).
const played = new Float32Array(frames * n);
const priority = new Uint8Array(frames * n);
const place = (decoded, at, prio) => {
  const x = new Float32Array(decoded.data.buffer.slice(decoded.data.byteOffset, decoded.data.byteOffset + decoded.data.length));
  for (let i = 0; i < x.length; i++) {
    const k = at + decoded.offsetSamples + i;
    if (k >= 0 && k < played.length && priority[k] <= prio) {
      played[k] = x[i];
      priority[k] = prio;
    }
  }
};
let seed = 7;
const lost = (percent) => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return (seed / 2 ** 32) * 100 < percent;
};

console.log(`${input ? path.basename(input) : 'generated speech'}: ${(frames / 50).toFixed(1)} s at ${rate} Hz, 20 ms frames`);
console.log('second  link kbit/s  loss %  mode         level  kbit/s  score  lost  fallbacks');
let second = { bytes: 0, score: 0, frames: 0, lost: 0, levels: new Set(), fallbacks: 0, mode: '' };
const t0 = Date.now();
let lastNeural = false;
for (let f = 0; f < frames; f++) {
  if (realtime) await new Promise((r) => setTimeout(r, Math.max(0, t0 + f * 20 - Date.now())));
  const conditions = link(f / frames);
  const r = await sender.compressFrame({ type: 'audio', format: 'f32le', sampleRate: rate, channels: 1, data: signal.slice(f * n, (f + 1) * n), timestamp: f * 20000 }, { network: conditions });
  second.bytes += r.compressedBytes;
  second.score += r.quality.score;
  second.frames++;
  second.mode = r.mode;
  if (r.qualityLevel !== null) second.levels.add(r.qualityLevel);
  if (r.status === 'fallback') second.fallbacks++;
  // The network drops packets at its loss rate; the receiver conceals what never arrives.
  if (f > 0 && lastNeural && lost(conditions.packetLossPercent)) {
    place(await receiver.concealFrame(), f * n, 1);
    second.lost++;
  } else {
    const neural = r.codec === 'neural-audio';
    // Switching to lossless: the neural stream's last frame is finished by concealment.
    if (lastNeural && !neural) place(await receiver.concealFrame(), f * n, 1);
    place(await receiver.decompressFrame(r.payload), f * n, neural ? 1 : 2);
    lastNeural = neural;
  }
  if (second.frames === 50 || f === frames - 1) {
    const s = Math.floor(f / 50);
    console.log(
      `${String(s).padStart(6)}  ${String(conditions.availableBandwidthKbps).padStart(11)}  ${String(conditions.packetLossPercent).padStart(6)}  ${second.mode.padEnd(11)}  ${[...second.levels].join(',').padStart(5)}  ${((second.bytes * 8) / (second.frames * 20)).toFixed(1).padStart(6)}  ${(second.score / second.frames).toFixed(3)}  ${String(second.lost).padStart(4)}  ${second.fallbacks}`,
    );
    second = { bytes: 0, score: 0, frames: 0, lost: 0, levels: new Set(), fallbacks: 0, mode: '' };
  }
}
const st = sender.stats();
const q = aic.audioQuality(signal.subarray(0, played.length), played, rate);
console.log(`sent ${st.framesProcessed} frames, ${st.bytesOut} bytes (${((st.bytesOut * 8) / (st.framesProcessed * 20)).toFixed(1)} kbit/s), mode changes ${st.modeChanges}, fallbacks ${JSON.stringify(st.fallbacks)}`);
console.log(`what the receiver played, against the input: score ${q.score.toFixed(3)}, SI-SNR ${q.siSnrDb.toFixed(1)} dB`);
if (out) {
  writeWav(out, { sampleRate: rate, channels: [played], sampleFormat: 's16' });
  console.log(`wrote ${out}`);
}
await engine.close();
