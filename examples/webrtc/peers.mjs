// Two WebRTC peers on this machine exchange aic payloads over real data channels (werift, a
// WebRTC stack in JavaScript). Peer A is a media server's uplink: it holds raw frames (Kodak
// photos as rgb24, 20 ms PCM frames of VCTK speech), has each one coded through the AI Core
// client (createClient(): by the AI Core service while it runs, locally when it does not) and
// sends the payloads to peer B, which decodes them with its own engine and measures them against
// the originals. channel.mjs holds the WebRTC part: loopback-only ICE, in-process signalling, and
// the chunking that carries payloads past SCTP's message size limit.
//
//   npm run example:webrtc                     # builds the service, then runs this with --start-service
//   node examples/webrtc/peers.mjs --start-service [--video N] [--audio N] [--mode adaptive] [--max-latency-ms 250]
//   node examples/webrtc/peers.mjs --endpoint 127.0.0.1:50051 --token <JWT>   # an AI Core already running
//
// With --start-service it starts the AI Core in this process (service/dist, `npm run build -w
// service`), runs the exchange, stops the AI Core and runs it again: the second run's frames are
// coded locally (servedBy 'local', clientFallbackReason 'unreachable') and still delivered.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { connectPeers, PayloadReceiver, sendPayload } from './channel.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const aic = await import(pathToFileURL(path.join(root, 'dist', 'index.js')).href);
const { readWav, resample, codedRate } = await import(pathToFileURL(path.join(root, 'dist', 'cli', 'wav.js')).href);

export const DATA = path.join(root, '..', 'shared', 'data');
export const haveData = existsSync(path.join(DATA, 'kodak')) && existsSync(path.join(DATA, 'speech', 'vctk'));

/** The first `count` Kodak photos, resized to fit `size` x `size` (aspect kept), as raw rgb24 video frames. */
export async function loadVideo({ count = 4, size = 512, dir = path.join(DATA, 'kodak') } = {}) {
  const files = readdirSync(dir).filter((f) => f.endsWith('.png')).sort().slice(0, count);
  const frames = [];
  for (const file of files) {
    const { data, info } = await sharp(path.join(dir, file)).resize({ width: size, height: size, fit: 'inside' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    frames.push({ name: file, frame: { type: 'video', format: 'rgb24', width: info.width, height: info.height, fps: 25, data } });
  }
  return frames;
}

/** `count` 20 ms frames of mono s16le PCM from a speech WAV, at the codec rate nearest above its own. */
export function loadAudio({ count = 50, file = path.join(DATA, 'speech', 'vctk', 'p225_001.wav'), skipSeconds = 0.5 } = {}) {
  const wav = readWav(file);
  const sampleRate = codedRate(wav.sampleRate);
  const x = resample(wav.channels[0], wav.sampleRate, sampleRate);
  const n = sampleRate / 50;
  const start = Math.min(Math.round(skipSeconds * sampleRate), Math.max(0, x.length - count * n));
  const frames = [];
  for (let i = 0; i < count; i++) {
    const data = Buffer.alloc(n * 2);
    for (let j = 0; j < n; j++) data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x[start + i * n + j] ?? 0)) * 32767), j * 2);
    frames.push({ type: 'audio', format: 's16le', sampleRate, channels: 1, data });
  }
  return { name: path.basename(file), sampleRate, samplesPerFrame: n, frames };
}

const toFloat = (s16) => {
  const out = new Float32Array(s16.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = s16.readInt16LE(i * 2) / 32768;
  return out;
};

/**
 * One exchange: peers A and B connect; A codes `video` and `audio` through `client` (an AicClient)
 * and sends the payloads on the channels 'aic-video' and 'aic-audio' (both ordered and reliable,
 * so that every frame can be checked; a live call could send audio with maxRetransmits: 0 and
 * conceal what is lost with session.concealFrame()); B decodes them with `receiver` (an Engine)
 * and measures them. Every wait is bounded by timeoutMs; both peers are closed on return or error.
 * `mode` and `maxLatencyMs` are the sending sessions' settings, at the AI Core and locally alike.
 */
export async function runExchange({ client, receiver, video = [], audio = null, mode = 'adaptive', maxLatencyMs, timeoutMs = 30_000, onVideo, onAudio } = {}) {
  const peers = await connectPeers({ labels: { 'aic-video': { ordered: true }, 'aic-audio': { ordered: true } }, timeoutMs });
  const floor = aic.MODE_DEFAULTS[mode].minQualityScore;
  const sessions = [];
  const open = (s) => (sessions.push(s), s);
  const rx = { video: new PayloadReceiver(peers.receiver['aic-video']), audio: new PayloadReceiver(peers.receiver['aic-audio']) };
  const report = { mode, floor, connectMs: peers.connectMs, video: [], audio: [], audioQuality: null };
  const audioFrames = audio?.frames ?? [];
  try {
    const settings = { mode, ...(maxLatencyMs === undefined ? {} : { maxLatencyMs }) };
    const videoTx = open(client.openSession(settings));
    const audioTx = open(client.openSession(settings));
    const videoRx = open(receiver.openSession());
    const audioRx = open(receiver.openSession());

    // Peer A: code each frame through the AI Core client and send it.
    const send = async (tx, channel, frames, sent) => {
      for (let i = 0; i < frames.length; i++) {
        const r = await tx.compressFrame(frames[i]);
        sent[i] = { r, wire: await sendPayload(channel, i, r.payload, { timeoutMs }) };
      }
    };
    const sentVideo = [];
    const sentAudio = [];

    // Peer B: take each payload off the channel, in order, decode it and measure it.
    const receiveVideo = async () => {
      for (let i = 0; i < video.length; i++) {
        const got = await rx.video.next(timeoutMs);
        const d = await videoRx.decompressFrame(got.payload);
        const { frame, name } = video[i];
        const sizeOk = d.width === frame.width && d.height === frame.height && d.data.length === frame.data.length;
        const q = sizeOk ? aic.imageQuality(frame.data, d.data, d.width, d.height) : { ssim: NaN, psnr: NaN };
        const entry = { index: i, sequence: got.sequence, name, width: d.width, height: d.height, sizeOk, rawBytes: frame.data.length, payloadBytes: got.payload.length, messages: got.messages, wireBytes: got.bytes, codec: d.codec, ssim: q.ssim, psnrDb: q.psnr };
        report.video.push(entry);
      }
    };
    const n = audio?.samplesPerFrame ?? 0;
    const timeline = new Float32Array(audioFrames.length * n);
    let minOffset = 0;
    const receiveAudio = async () => {
      for (let i = 0; i < audioFrames.length; i++) {
        const got = await rx.audio.next(timeoutMs);
        const d = await audioRx.decompressFrame(got.payload);
        const offset = d.offsetSamples ?? 0;
        minOffset = Math.min(minOffset, offset);
        const samples = toFloat(d.data);
        for (let j = 0; j < samples.length; j++) {
          const at = got.sequence * n + offset + j;
          if (at >= 0 && at < timeline.length) timeline[at] = samples[j];
        }
        report.audio.push({ index: i, sequence: got.sequence, sizeOk: d.data.length === audioFrames[i].data.length, rawBytes: audioFrames[i].data.length, payloadBytes: got.payload.length, messages: got.messages, wireBytes: got.bytes, codec: d.codec });
      }
    };

    await Promise.all([
      send(videoTx, peers.sender['aic-video'], video.map((v) => v.frame), sentVideo),
      send(audioTx, peers.sender['aic-audio'], audioFrames, sentAudio),
      receiveVideo(),
      receiveAudio(),
    ]);

    // What A's coder said of each frame, beside what B measured.
    const coded = (r) => ({ servedBy: r.servedBy, clientFallbackReason: r.clientFallbackReason, status: r.status, fallbackReason: r.fallbackReason, reportedScore: r.quality.score, codingMs: r.timings.totalMs });
    report.video.forEach((e, i) => Object.assign(e, coded(sentVideo[i].r), { reportedSsim: sentVideo[i].r.quality.ssim }));
    report.audio.forEach((e, i) => Object.assign(e, coded(sentAudio[i].r)));
    for (const e of report.video) onVideo?.(e);
    for (const e of report.audio) onAudio?.(e);

    // Audio quality over the whole stream: the receiver's timeline (each frame placed at its
    // sequence x frame length + offsetSamples) against what A sent, past the codec's delay.
    if (audioFrames.length > 2) {
      const reference = toFloat(Buffer.concat(audioFrames.map((f) => f.data)));
      const from = n;
      const to = timeline.length + minOffset;
      report.audioQuality = aic.audioQuality(reference.subarray(from, to), timeline.subarray(from, to), audio.sampleRate);
    }
    report.channel = {
      video: { messages: peers.receiver['aic-video'].messagesReceived, bytes: peers.receiver['aic-video'].bytesReceived },
      audio: { messages: peers.receiver['aic-audio'].messagesReceived, bytes: peers.receiver['aic-audio'].bytesReceived },
    };
    return report;
  } finally {
    for (const s of sessions) s.close();
    rx.video.close();
    rx.audio.close();
    await peers.close();
  }
}

const kb = (b) => `${(b / 1000).toFixed(1)} kB`;
const pct = (part, whole) => `${(100 * (1 - part / whole)).toFixed(1)} % less`;

export function printVideo(e) {
  const served = e.servedBy === 'local' ? `local (${e.clientFallbackReason})` : e.servedBy;
  const status = e.fallbackReason ? `${e.status}/${e.fallbackReason}` : e.status;
  console.log(`  video #${e.sequence} ${e.name} ${e.width}x${e.height}: raw ${kb(e.rawBytes)} -> ${kb(e.payloadBytes)} in ${e.messages} message${e.messages > 1 ? 's' : ''} (${pct(e.payloadBytes, e.rawBytes)}), SSIM ${e.ssim.toFixed(3)}, PSNR ${e.psnrDb.toFixed(1)} dB, ${e.codec}, ${status}, by ${served}`);
}

export function printSummary(report, audio) {
  const sum = (list, key) => list.reduce((s, e) => s + e[key], 0);
  const a = report.audio;
  if (a.length) {
    const served = [...new Set(a.map((e) => (e.servedBy === 'local' ? `local (${e.clientFallbackReason})` : e.servedBy)))].join(', ');
    const codecs = [...new Set(a.map((e) => e.codec))].join(', ');
    const q = report.audioQuality;
    console.log(`  audio: ${a.length} frames of 20 ms (${audio.name}, ${audio.sampleRate} Hz): raw ${kb(sum(a, 'rawBytes'))} -> ${kb(sum(a, 'payloadBytes'))} (${pct(sum(a, 'payloadBytes'), sum(a, 'rawBytes'))}, ${((sum(a, 'payloadBytes') * 8) / (a.length * 20)).toFixed(1)} kbit/s), ${codecs}, by ${served}${q ? `; stream score ${q.score.toFixed(3)}, SI-SNR ${q.siSnrDb.toFixed(1)} dB` : ''}`);
  }
  const all = [...report.video, ...a];
  console.log(`  over the data channels: ${kb(report.channel.video.bytes + report.channel.audio.bytes)} in ${report.channel.video.messages + report.channel.audio.messages} messages for ${kb(sum(all, 'rawBytes'))} of raw media; peers connected in ${report.connectMs.toFixed(0)} ms`);
}

async function main(argv) {
  const arg = (name, fallback) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : fallback;
  };
  if (!haveData) {
    console.error(`this example reads ${DATA}/kodak and ${DATA}/speech/vctk, which are not there`);
    process.exit(1);
  }
  let endpoint = arg('--endpoint');
  let token = arg('--token');
  if (!endpoint && !argv.includes('--start-service')) {
    console.error('usage: node examples/webrtc/peers.mjs --start-service | --endpoint HOST:PORT --token JWT [--video N] [--audio N] [--mode MODE] [--max-latency-ms MS]');
    process.exit(1);
  }
  const servicePath = path.join(root, 'service', 'dist', 'service.js');
  if (argv.includes('--start-service') && !existsSync(servicePath)) {
    console.error('build the service first: npm run build -w service');
    process.exit(1);
  }
  const mode = arg('--mode', 'adaptive');
  // Neural coding of a 512-px frame takes tens of ms on this machine's CPU: a latency budget that
  // fits it (the default 20 ms would send most frames down the fallback ladder).
  const maxLatencyMs = Number(arg('--max-latency-ms', 250));
  const video = await loadVideo({ count: Number(arg('--video', 4)) });
  const audio = loadAudio({ count: Number(arg('--audio', 100)) });
  const engineOptions = { executionProvider: 'cpu' };
  const local = await aic.createEngine(engineOptions); // A's own engine, for frames the AI Core does not code
  const receiver = await aic.createEngine(engineOptions); // B's engine: the far side decodes on its own
  let service = null;
  if (argv.includes('--start-service')) {
    const { startService } = await import(pathToFileURL(servicePath).href);
    const { SignJWT } = await import('jose');
    const secret = 'webrtc-example-secret-for-hs256-only';
    service = await startService({
      grpc: { host: '127.0.0.1', port: 0 },
      http: { host: '127.0.0.1', port: 0 },
      plaintext: true,
      auth: { secret },
      prometheus: false,
      engine: engineOptions,
      defaults: aic.loadConfig({ AIC_MAX_LATENCY_MS: 'Infinity' }).session,
    });
    endpoint = `127.0.0.1:${service.grpcPort}`;
    token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('webrtc-example').setExpirationTime('10m').sign(new TextEncoder().encode(secret));
    console.log(`AI Core started on ${endpoint} (gRPC, plaintext, loopback)`);
  }
  // The client waits this long for the AI Core before coding a frame locally (default 30 ms).
  const client = await aic.createClient({ endpoint, token, plaintext: true, requestTimeoutMs: 10_000, local });
  try {
    const run = async (title) => {
      console.log(`\n${title}`);
      const report = await runExchange({ client, receiver, video, audio, mode, maxLatencyMs, onVideo: printVideo });
      printSummary(report, audio);
      return report;
    };
    await run(`mode ${mode}, AI Core at ${endpoint}:`);
    if (service) {
      await service.close();
      service = null;
      await run('the AI Core stopped: the client codes locally, the peers carry on:');
    }
    console.log(`\nclient: ${JSON.stringify(client.stats)}`);
  } finally {
    await client.close();
    await service?.close();
    await local.close();
    await receiver.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
