// Determinism of the reference of predicted frames (issue 16, docs/bitstream.md, "Determinism of
// the reference"): a chain coded on one engine decodes to the same bytes on receivers that run
// ONNX Runtime differently - 1 or 2 intra-op threads, graph optimisation 'disabled', 'basic' or
// 'all', the optimised-graph cache on or off, executionProvider 'cpu' or 'auto' - and to the
// sender's own reconstruction, which each predicted payload pins by the CRC-32C of the reference
// it was coded against. The keyframe's reference is the integer linear decode of its symbols,
// not the decoder network's output: a bare inter stream that never runs the network decodes the
// same predicted frames. Receivers with another thread count run in processes of their own
// (ONNX Runtime has one environment per process) on the built package (dist/, npm test's pretest
// build). There is no GPU here: CUDA is not among the receivers (the 'auto' receiver says what it
// ran on).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_INTER_MODEL } from '../src/engine.js';
import { createEngine, imageQuality, parsePayloadHeader, type CompressResult, type Engine, type EngineOptions } from '../src/index.js';
import { loadInterCodec } from '../src/inter-codec.js';

const root = path.resolve(__dirname, '..');
const KODAK = path.resolve(root, '..', 'shared', 'data', 'kodak');
const W = 640;
const H = 360;
/** A keyframe, 8 predicted frames checked against the sender's reconstruction, and one more whose reference check pins the 8th. */
const FRAMES = 10;

/**
 * Camera-like motion: a pan of 2.5 px right and 1.5 px down per frame (a 2x window scaled down, so
 * half-pixel vectors), and an object (a patch of another photo) moving 6 px left and 2 px down
 * across it, uncovering background as it goes.
 */
async function movingFrames(): Promise<Buffer[]> {
  const big = await sharp(path.join(KODAK, 'kodim21.png')).resize({ width: 1600, height: 960, fit: 'cover' }).removeAlpha().toBuffer();
  const patch = await sharp(path.join(KODAK, 'kodim23.png')).extract({ left: 300, top: 150, width: 240, height: 240 }).resize(120, 120).removeAlpha().raw().toBuffer();
  const frames: Buffer[] = [];
  for (let i = 0; i < FRAMES; i++) {
    const data = await sharp(big).extract({ left: 40 + 5 * i, top: 60 + 3 * i, width: 2 * W, height: 2 * H }).resize(W, H).raw().toBuffer();
    const ox = 420 - 6 * i;
    const oy = 120 + 2 * i;
    for (let y = 0; y < 120; y++) patch.copy(data, ((oy + y) * W + ox) * 3, y * 120 * 3, (y + 1) * 120 * 3);
    frames.push(data);
  }
  return frames;
}

const CRC32C_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of the R, G and B planes in turn of an rgb24 frame: the check a predicted payload carries of its reference. */
function planesCheck(rgb: Buffer): number {
  let crc = 0xffffffff;
  for (let p = 0; p < 3; p++) for (let i = p; i < rgb.length; i += 3) crc = CRC32C_TABLE[(crc ^ rgb[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function crc32c(bytes: Uint8Array, crc = 0): number {
  crc = ~crc >>> 0;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Whether a predicted payload is coded against the frame of this sequence number and check
 * (docs/bitstream.md): the full form carries both in its body's first 8 bytes; the compact form
 * their low 16 bits, and the whole check inside the CRC that closes it (with the inter model id).
 */
function namesReference(payload: Buffer, sequence: number, check: number, interModelId: number): boolean {
  const h = parsePayloadHeader(payload);
  expect(h.codec).toBe('predicted');
  if (!h.shortForm) {
    // The body follows the 40-byte header.
    expect(payload[5]).toBe(40);
    return payload.readUInt32LE(40) === sequence && payload.readUInt32LE(44) === check;
  }
  if (payload.readUInt16LE(3) !== (sequence & 0xffff) || payload.readUInt16LE(5) !== (check & 0xffff)) return false;
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32LE(interModelId, 0);
  prefix.writeUInt32LE(check, 4);
  return crc32c(payload.subarray(0, payload.length - 4), crc32c(prefix)) === payload.readUInt32LE(payload.length - 4);
}

function differingBytes(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) return Math.max(a.length, b.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) n++;
  return n;
}

interface Receiver {
  name: string;
  decoded: Buffer[];
  ranOn?: string;
}

const SENDER: EngineOptions = { executionProvider: 'cpu', intraOpThreads: 1, graphOptimization: 'all', models: { audio: false } };

describe('predicted frames decode the same whatever the receiver runs on', () => {
  let sender: Engine;
  let frames: Buffer[];
  let interModelId: number;
  const sent: CompressResult[] = [];
  const receivers: Receiver[] = [];
  const work = mkdtempSync(path.join(tmpdir(), 'aic-inter-det-'));

  beforeAll(async () => {
    frames = await movingFrames();
    sender = await createEngine(SENDER);
    interModelId = sender.capabilities().models.inter![0]!;
    const tx = sender.openSession({ interFrames: true, maxLatencyMs: Infinity });
    for (let k = 0; k < FRAMES; k++) {
      sent.push(await tx.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: frames[k]!, fps: 30 }));
      writeFileSync(path.join(work, `payload-${k}.bin`), sent[k]!.payload);
    }
  }, 120_000);

  afterAll(async () => {
    await sender?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('codes a keyframe and then only predicted frames, each against the frame before it', () => {
    expect(sent.map((r) => r.codec)).toEqual(['neural-image', ...Array<string>(FRAMES - 1).fill('predicted')]);
    // Between frames of one session the predicted frames take the compact form (version 3).
    for (let k = 1; k < FRAMES; k++) expect(parsePayloadHeader(sent[k]!.payload).shortForm, `payload ${k}: compact`).toBe(true);
    for (let k = 1; k < FRAMES; k++) expect(sent[k]!.payload.readUInt16LE(3), `payload ${k}: names frame ${k - 1}`).toBe(sent[k - 1]!.sequence & 0xffff);
  });

  it('decodes on every receiver', async () => {
    const decodeIn = async (name: string, engine: Engine, own: boolean): Promise<void> => {
      const rx = engine.openSession();
      const decoded: Buffer[] = [];
      for (const r of sent) decoded.push((await rx.decompressFrame(r.payload)).data);
      rx.close();
      receivers.push({ name, decoded });
      if (!own) await engine.close();
    };
    // In this process (1 intra-op thread, as the sender): the sender's engine itself, and one
    // whose graphs ONNX Runtime does not optimise (nor take from the cache).
    await decodeIn('sender engine, second session', sender, true);
    await decodeIn('1 thread, graphOptimization disabled, no cache', await createEngine({ ...SENDER, graphOptimization: 'disabled', cacheDir: false }), false);

    // A bare inter stream: adopts the keyframe's bytes, never runs the decoder network.
    const inter = await loadInterCodec(DEFAULT_INTER_MODEL, sender.imageCodec()!);
    const stream = inter.createStream();
    stream.adoptKeyframe(sent[0]!.payload);
    const bare: Buffer[] = [Buffer.alloc(0)];
    for (let k = 1; k < FRAMES; k++) bare.push((await stream.decode(sent[k]!.payload)).data as Buffer);
    receivers.push({ name: 'inter stream alone (no neural decode of the keyframe)', decoded: bare });

    // Other processes: 2 intra-op threads, each optimisation level at the ends, and 'auto'.
    const others: Array<[string, EngineOptions]> = [
      ['2 threads, graphOptimization all', { executionProvider: 'cpu', intraOpThreads: 2, graphOptimization: 'all', models: { audio: false } }],
      ['2 threads, graphOptimization disabled, no cache', { executionProvider: 'cpu', intraOpThreads: 2, graphOptimization: 'disabled', cacheDir: false, models: { audio: false } }],
      ['2 threads, graphOptimization basic, executionProvider auto', { executionProvider: 'auto', intraOpThreads: 2, graphOptimization: 'basic', cacheDir: false, models: { audio: false } }],
    ];
    for (const [i, [name, options]] of others.entries()) {
      const out = path.join(work, `rx-${i}`);
      mkdirSync(out);
      const stdout = execFileSync(process.execPath, [path.join(root, 'test', 'inter-receiver.cjs'), work, out, JSON.stringify(options)], { encoding: 'utf8', timeout: 120_000 });
      const report = JSON.parse(stdout.trim().split('\n').pop()!) as {
        error?: { code: string; message: string };
        frames: Array<{ codec: string }>;
        availableProviders: string[];
        decoderProvider: string | null;
        intraOpThreads: number;
        graphOptimization: string;
      };
      expect(report.error, `${name}: ${report.error?.code} ${report.error?.message}`).toBeUndefined();
      expect(report.intraOpThreads).toBe(2);
      expect(report.graphOptimization).toBe(options.graphOptimization);
      expect(report.frames.map((f) => f.codec)).toEqual(sent.map((r) => r.codec));
      const ranOn = `${report.decoderProvider} (available: ${report.availableProviders.join(', ')})`;
      receivers.push({ name, decoded: sent.map((_, k) => readFileSync(path.join(out, `decoded-${k}.bin`))), ranOn });
    }
    for (const r of receivers) if (r.ranOn) console.log(`${r.name}: decoder ran on ${r.ranOn}`);
    expect(receivers).toHaveLength(6);
  }, 300_000);

  it("gives byte-identical predicted frames on every receiver, equal to the sender's reconstruction", () => {
    const [first, ...rest] = receivers;
    expect(first, 'the receivers decoded').toBeDefined();
    for (let k = 1; k < FRAMES; k++) {
      for (const r of rest) expect(differingBytes(r.decoded[k]!, first!.decoded[k]!), `frame ${k}: ${r.name} vs ${first!.name}: bytes that differ`).toBe(0);
      // The sender's reconstruction of frame k is the reference frame k + 1 was coded against.
      if (k + 1 < FRAMES) {
        expect(namesReference(sent[k + 1]!.payload, sent[k]!.sequence, planesCheck(first!.decoded[k]!), interModelId), `frame ${k}: receiver's pixels vs the sender's reconstruction (check in payload ${k + 1})`).toBe(true);
      }
      // And it scores what the sender measured on its own reconstruction.
      expect(imageQuality(frames[k]!, first!.decoded[k]!, W, H).ssim).toBeCloseTo(sent[k]!.quality.score, 6);
    }
  });

  it("keeps as the keyframe's reference its integer linear decode, not the decoder network's picture", () => {
    // What each receiver shows for the keyframe is the network's output (which could differ by
    // provider, thread count or optimisation: on this machine it may or may not); the reference
    // the first predicted frame names is another picture, the same on every receiver, since each
    // of them accepted it (its check) and decoded the same frames from it.
    const shown = receivers.filter((r) => r.decoded[0]!.length > 0).map((r) => r.decoded[0]!);
    for (const picture of shown) expect(namesReference(sent[1]!.payload, sent[0]!.sequence, planesCheck(picture), interModelId)).toBe(false);
    const variants = new Set(shown.map((p) => planesCheck(p))).size;
    console.log(`keyframe: ${variants} distinct neural decode(s) across ${shown.length} receivers; one reference (check ending ${sent[1]!.payload.readUInt16LE(5).toString(16)})`);
    // The keyframe as shown scores the sender's measurement (the closed loop decodes with the network).
    expect(imageQuality(frames[0]!, shown[0]!, W, H).ssim).toBeCloseTo(sent[0]!.quality.score, 6);
  });
});
