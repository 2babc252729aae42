// Issue 15, part 5: two WebRTC peers on this machine (werift, loopback only) exchange aic
// payloads over real data channels, peer A coding real frames (Kodak photos, VCTK speech from
// ../shared/data) through the AI Core client, peer B decoding them with its own engine
// (examples/webrtc/). While the AI Core runs it codes every frame; once it is stopped the client
// codes locally and the peers carry on.
import sharp from 'sharp';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, createEngine, type AicClient, type Engine } from '@auralink/aic';
import type { RunningService } from '../src/service.js';
import { signToken, startTestService } from './helpers/service.js';
import { CHUNK_BYTES, connectPeers, PayloadReceiver, sendPayload } from '../../examples/webrtc/channel.mjs';
import { DATA, haveData, loadAudio, loadVideo, runExchange } from '../../examples/webrtc/peers.mjs';

const SECRET = 'webrtc-test-secret-long-enough-for-hs256';
const MODE = 'adaptive';
const FLOOR = 0.85; // the adaptive mode's quality floor (MODE_DEFAULTS)

let service: RunningService | null = null;
let client: AicClient;
let local: Engine;
let receiver: Engine;
let video: { name: string; frame: { width: number; height: number; data: Buffer } }[];
let audio: { sampleRate: number; samplesPerFrame: number; frames: { data: Buffer }[] };

const udpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'UDPWRAP').length;
const sum = (list: any[], key: string) => list.reduce((s, e) => s + e[key], 0);

/** What every exchange must show, whoever coded the frames. */
function expectDelivered(report: any) {
  expect(report.video.map((e: any) => e.sequence)).toEqual(video.map((_, i) => i));
  expect(report.audio.map((e: any) => e.sequence)).toEqual(audio.frames.map((_, i) => i));
  for (const e of report.video) {
    expect(e.sizeOk).toBe(true);
    expect([e.width, e.height]).toEqual([video[e.index]!.frame.width, video[e.index]!.frame.height]);
    // The receiver measures what the sender's coder reported.
    expect(e.ssim).toBeCloseTo(e.reportedSsim, 6);
    if (e.status === 'success') expect(e.ssim).toBeGreaterThanOrEqual(FLOOR);
    else expect(['fallback', 'quality_threshold_not_met']).toContain(e.status);
    expect(e.payloadBytes).toBeLessThan(e.rawBytes / 4);
    expect(e.wireBytes).toBe(e.payloadBytes + 8 * e.messages);
  }
  for (const e of report.audio) {
    expect(e.sizeOk).toBe(true);
    expect(e.messages).toBe(1);
  }
  if (report.audio.every((e: any) => e.status === 'success')) expect(report.audioQuality.score).toBeGreaterThanOrEqual(FLOOR);
  // What left A is what B's channels counted, and far less than the raw media.
  const wire = sum(report.video, 'wireBytes') + sum(report.audio, 'wireBytes');
  expect(report.channel.video.bytes + report.channel.audio.bytes).toBe(wire);
  expect(report.channel.video.messages).toBe(sum(report.video, 'messages'));
  expect(wire).toBeLessThan((sum(report.video, 'rawBytes') + sum(report.audio, 'rawBytes')) / 10);
  // Both peers closed: no UDP socket is left behind.
  expect(udpSockets()).toBe(0);
}

describe.skipIf(!haveData)('WebRTC peers exchanging aic payloads (examples/webrtc)', () => {
  beforeAll(async () => {
    service = await startTestService({ secret: SECRET }, { prometheus: false });
    local = await createEngine({ executionProvider: 'cpu' });
    receiver = await createEngine({ executionProvider: 'cpu' });
    const token = await signToken(SECRET, 'webrtc-peer');
    client = await createClient({ endpoint: `127.0.0.1:${service.grpcPort}`, plaintext: true, token, requestTimeoutMs: 30_000, local });
    video = await loadVideo({ count: 3, size: 512 });
    audio = loadAudio({ count: 50 });
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await local?.close();
    await receiver?.close();
  });

  it('carries frames coded by the AI Core to the far peer, in order, decoded at full size and quality', async () => {
    const report = await runExchange({ client, receiver, video, audio, mode: MODE, maxLatencyMs: Infinity, timeoutMs: 20_000 });
    expectDelivered(report);
    for (const e of [...report.video, ...report.audio]) expect(e.servedBy).toBe('ai-core');
    // A 512-px frame's payload is larger than one 16 KiB message: at least one went in chunks.
    expect(report.video.some((e: any) => e.messages > 1)).toBe(true);
    expect(client.stats.local).toBe(0);
  });

  it('with the AI Core stopped, the client codes locally (unreachable) and the peers carry on', async () => {
    await service!.close();
    service = null;
    const before = client.stats.fallbacks.unreachable;
    const report = await runExchange({ client, receiver, video, audio, mode: MODE, maxLatencyMs: Infinity, timeoutMs: 20_000 });
    expectDelivered(report);
    for (const e of [...report.video, ...report.audio]) {
      expect(e.servedBy).toBe('local');
      expect(e.clientFallbackReason).toBe('unreachable');
    }
    expect(client.stats.fallbacks.unreachable - before).toBe(video.length + audio.frames.length);
  });

  it('sends a payload past the 64 KiB max-message-size in chunks, where one message is refused', async () => {
    // A full-size Kodak photo in conservative mode codes to about 100 kB.
    const file = path.join(DATA, 'kodak', 'kodim05.png');
    const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const s = local.openSession({ mode: 'conservative', maxLatencyMs: Infinity });
    const r = await s.compressFrame({ type: 'video', format: 'rgb24', width: info.width, height: info.height, data });
    s.close();
    expect(r.payload.length).toBeGreaterThan(65536);
    const peers = await connectPeers({ labels: { big: { ordered: true } } });
    try {
      const channel = peers.sender.big;
      expect(channel.sctp.remoteMaxMessageSize).toBe(65536);
      expect(() => channel.send(r.payload)).toThrow(/max-message-size/);
      const rx = new PayloadReceiver(peers.receiver.big);
      const sent = await sendPayload(channel, 7, r.payload);
      const got = await rx.next(10_000);
      rx.close();
      expect(sent.messages).toBe(Math.ceil(r.payload.length / (CHUNK_BYTES - 8)));
      expect([got.sequence, got.messages]).toEqual([7, sent.messages]);
      expect(Buffer.compare(got.payload, r.payload)).toBe(0);
      const d = await receiver.decompressFrame(got.payload);
      expect([d.width, d.height]).toEqual([info.width, info.height]);
    } finally {
      await peers.close();
    }
    expect(udpSockets()).toBe(0);
  });
});
