// The hostile-input catalogue (issue 13): bad inputs across every public call, each with the code it
// must give. Nothing a caller passes may come back as INTERNAL, a raw TypeError, or a crash.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AicError, analyzeNetworkConditions, audioQuality, createEngine, imageQuality, parsePayloadHeader, type AicErrorCode, type Engine, type Session } from '../src/index.js';
import { syntheticFrame } from './media.js';

type Case = [name: string, call: () => unknown, code: AicErrorCode];

/** CRC-32C (Castagnoli, reflected 0x82F63B78), written from docs/bitstream.md. */
function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of b) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/** A copy of a full-form payload edited and with its CRC recomputed: what an attacker sends. */
function resealed(p: Buffer, edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(p);
  edit(b);
  b.writeUInt32LE(crc32c(b.subarray(0, b.length - 4)), b.length - 4);
  return b;
}

const W = 32;
const H = 24;
const rgb = () => syntheticFrame(W, H, 3);
const video = (extra: Record<string, unknown> = {}) => ({ type: 'video', format: 'rgb24', width: W, height: H, data: rgb(), ...extra });
const audio = (extra: Record<string, unknown> = {}) => ({ type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: Buffer.alloc(640), ...extra });
const throwingGetter = (key: string) =>
  Object.defineProperty({}, key, {
    get() {
      throw new Error('getter says no');
    },
    enumerable: true,
  });

/** Runs a call and returns the AicError it threw or rejected with (or a description of what else happened). */
async function outcome(call: () => unknown): Promise<{ code?: string; other?: string }> {
  try {
    await call();
    return { other: 'no error' };
  } catch (e) {
    if (e instanceof AicError) return { code: e.code };
    return { other: `${(e as Error)?.constructor?.name}: ${(e as Error)?.message}` };
  }
}

describe('hostile inputs: every bad input gets its typed error', () => {
  let engine: Engine;
  let s: Session;
  let good: Buffer;
  let goodAudio: Buffer;
  let dir: string;
  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
    s = engine.openSession({ maxLatencyMs: Infinity });
    good = (await s.compressFrame(video() as never)).payload;
    goodAudio = (await s.compressFrame(audio() as never)).payload;
    dir = mkdtempSync(path.join(tmpdir(), 'aic-hostile-'));
  });
  afterAll(async () => engine.close());

  const withCrc = (p: Buffer, edit: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(p);
    edit(b);
    return b; // CRC left stale on purpose: the parser must refuse it
  };

  it('refuses them all with the right code', async () => {
    const manifest = (content: string) => {
      const f = path.join(dir, `m${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(f, content);
      return f;
    };
    const closedEngine = await createEngine({ executionProvider: 'cpu', models: { image: false, audio: false } });
    const closedSession = closedEngine.openSession();
    await closedEngine.close();
    const cases: Case[] = [
      // createEngine / engine options
      ['createEngine(null)', () => createEngine(null as never), 'INVALID_ARGUMENT'],
      ['maxSessions 0', () => createEngine({ maxSessions: 0 }), 'INVALID_ARGUMENT'],
      ['maxSessions NaN', () => createEngine({ maxSessions: NaN }), 'INVALID_ARGUMENT'],
      ['sessionIdleTimeoutMs -1', () => createEngine({ sessionIdleTimeoutMs: -1 }), 'INVALID_ARGUMENT'],
      ['maxInFlight 1.5', () => createEngine({ maxInFlight: 1.5 }), 'INVALID_ARGUMENT'],
      ['executionProvider bogus', () => createEngine({ executionProvider: 'tpu' as never }), 'INVALID_ARGUMENT'],
      ['intraOpThreads -3', () => createEngine({ intraOpThreads: -3 } as never), 'INVALID_ARGUMENT'],
      ['models not an object', () => createEngine({ models: 'x' as never }), 'INVALID_ARGUMENT'],
      ['image manifest missing', () => engine.loadImageCodec(path.join(dir, 'nope.json')), 'MODEL_NOT_FOUND'],
      ['image manifest not JSON', () => engine.loadImageCodec(manifest('{ not json')), 'MANIFEST_INVALID'],
      ['image manifest empty object', () => engine.loadImageCodec(manifest('{}')), 'MANIFEST_INVALID'],
      ['audio manifest of wrong kind', () => engine.loadAudioCodec(manifest('{"kind":"image"}')), 'MANIFEST_INVALID'],
      ['loadModel garbage bytes', () => engine.loadModel({ name: 'garbage', encoder: Buffer.from('not onnx'), decoder: Buffer.from('not onnx') }), 'MODEL_INVALID'],
      ['loadModel no name', () => engine.loadModel({ name: '', encoder: 'a', decoder: 'b' }), 'INVALID_ARGUMENT'],
      ['loadModel missing file', () => engine.loadModel({ name: 'missing', encoder: path.join(dir, 'a.onnx'), decoder: path.join(dir, 'b.onnx') }), 'MODEL_NOT_FOUND'],
      // openSession
      ['openSession(5)', () => engine.openSession(5 as never), 'INVALID_ARGUMENT'],
      ['mode bogus', () => engine.openSession({ mode: 'turbo' as never }), 'INVALID_ARGUMENT'],
      ['minQualityScore 2', () => engine.openSession({ minQualityScore: 2 }), 'INVALID_ARGUMENT'],
      ['targetCompressionRatio NaN', () => engine.openSession({ targetCompressionRatio: NaN }), 'INVALID_ARGUMENT'],
      ['maxLatencyMs 0', () => engine.openSession({ maxLatencyMs: 0 }), 'INVALID_ARGUMENT'],
      ['enableFallback "yes"', () => engine.openSession({ enableFallback: 'yes' as never }), 'INVALID_ARGUMENT'],
      ['fallbackCodec bogus', () => engine.openSession({ fallbackCodec: 'gif' as never }), 'INVALID_ARGUMENT'],
      ['peerCapabilities bogus', () => engine.openSession({ peerCapabilities: { codecs: 1 } as never }), 'INVALID_ARGUMENT'],
      ['sessionId too long', () => engine.openSession({ sessionId: 'x'.repeat(300) }), 'INVALID_ARGUMENT'],
      ['sessionId in use', () => engine.openSession({ sessionId: s.sessionId }), 'INVALID_ARGUMENT'],
      // compressFrame: frames
      ['frame null', () => s.compressFrame(null as never), 'INVALID_ARGUMENT'],
      ['frame type bogus', () => s.compressFrame({ ...video(), type: 'hologram' } as never), 'INVALID_ARGUMENT'],
      ['data not a view', () => s.compressFrame(video({ data: [1, 2, 3] }) as never), 'INVALID_ARGUMENT'],
      ['data a string', () => s.compressFrame(video({ data: 'pixels' }) as never), 'INVALID_ARGUMENT'],
      ['width 0', () => s.compressFrame(video({ width: 0 }) as never), 'INVALID_ARGUMENT'],
      ['width NaN', () => s.compressFrame(video({ width: NaN }) as never), 'INVALID_ARGUMENT'],
      ['width Infinity', () => s.compressFrame(video({ width: Infinity }) as never), 'INVALID_ARGUMENT'],
      ['width 1.5', () => s.compressFrame(video({ width: 1.5 }) as never), 'INVALID_ARGUMENT'],
      ['width past the limit', () => s.compressFrame(video({ width: 16385 }) as never), 'INVALID_ARGUMENT'],
      ['pixels past the limit', () => s.compressFrame(video({ width: 16384, height: 16384, data: Buffer.alloc(3) }) as never), 'INVALID_ARGUMENT'],
      ['data too short', () => s.compressFrame(video({ data: Buffer.alloc(10) }) as never), 'INVALID_ARGUMENT'],
      ['data too long', () => s.compressFrame(video({ data: Buffer.alloc(W * H * 3 + 1) }) as never), 'INVALID_ARGUMENT'],
      ['empty data', () => s.compressFrame(video({ data: Buffer.alloc(0) }) as never), 'INVALID_ARGUMENT'],
      ['pixel format bogus', () => s.compressFrame(video({ format: 'yuv444' }) as never), 'INVALID_ARGUMENT'],
      ['timestamp negative', () => s.compressFrame(video({ timestamp: -1 }) as never), 'INVALID_ARGUMENT'],
      ['timestamp past 2^53', () => s.compressFrame(video({ timestamp: 2 ** 54 }) as never), 'INVALID_ARGUMENT'],
      ['keyframe "yes"', () => s.compressFrame(video({ keyframe: 'yes' }) as never), 'INVALID_ARGUMENT'],
      ['audio rate 44100', () => s.compressFrame(audio({ sampleRate: 44100, data: Buffer.alloc(1764) }) as never), 'INVALID_ARGUMENT'],
      ['audio 6 channels', () => s.compressFrame(audio({ channels: 6, data: Buffer.alloc(3840) }) as never), 'INVALID_ARGUMENT'],
      ['audio wrong length', () => s.compressFrame(audio({ data: Buffer.alloc(641) }) as never), 'INVALID_ARGUMENT'],
      ['audio f32 NaN', () => s.compressFrame(audio({ format: 'f32le', data: Buffer.from(new Float32Array(320).fill(NaN).buffer) }) as never), 'INVALID_ARGUMENT'],
      ['audio f32 Infinity', () => s.compressFrame(audio({ format: 'f32le', data: Buffer.from(new Float32Array(320).fill(Infinity).buffer) }) as never), 'INVALID_ARGUMENT'],
      ['audio format bogus', () => s.compressFrame(audio({ format: 'u8' }) as never), 'INVALID_ARGUMENT'],
      ['data frame past 64 MiB', () => s.compressFrame({ type: 'data', data: Buffer.alloc(64 * 1024 * 1024 + 1) } as never), 'INVALID_ARGUMENT'],
      // compressFrame: options
      ['options a number', () => s.compressFrame(video() as never, 3 as never), 'INVALID_ARGUMENT'],
      ['network bandwidth negative', () => s.compressFrame(video() as never, { network: { availableBandwidthKbps: -5, rttMs: 10, packetLossPercent: 0, jitterMs: 0 } }), 'INVALID_ARGUMENT'],
      ['network loss 200 %', () => s.compressFrame(video() as never, { network: { availableBandwidthKbps: 500, rttMs: 10, packetLossPercent: 200, jitterMs: 0 } }), 'INVALID_ARGUMENT'],
      ['output too small', () => s.compressFrame(video() as never, { output: Buffer.alloc(8) }), 'OUTPUT_MISMATCH'],
      ['output not a Buffer', () => s.compressFrame(video() as never, { output: new Uint8Array(99999) as never }), 'INVALID_ARGUMENT'],
      ['whenBusy bogus', () => s.compressFrame(video() as never, { whenBusy: 'later' as never }), 'INVALID_ARGUMENT'],
      // decompressFrame: payloads
      ['payload a string', () => engine.decompressFrame('AICF' as never), 'INVALID_ARGUMENT'],
      ['payload empty', () => engine.decompressFrame(Buffer.alloc(0)), 'CORRUPT_PAYLOAD'],
      ['payload random bytes', () => engine.decompressFrame(Buffer.from('definitely not a payload at all')), 'CORRUPT_PAYLOAD'],
      ['payload truncated', () => engine.decompressFrame(good.subarray(0, good.length - 5)), 'CORRUPT_PAYLOAD'],
      ['payload padded', () => engine.decompressFrame(Buffer.concat([good, Buffer.alloc(3)])), 'CORRUPT_PAYLOAD'],
      ['payload one bit flipped', () => engine.decompressFrame(withCrc(good, (b) => (b[50] ^= 1))), 'CORRUPT_PAYLOAD'],
      ['payload version 9', () => engine.decompressFrame(withCrc(good, (b) => (b[4] = 9))), 'UNSUPPORTED_VERSION'],
      ['audio payload truncated', () => engine.decompressFrame(goodAudio.subarray(0, 8)), 'CORRUPT_PAYLOAD'],
      ['payload of another model', () => engine.decompressFrame(resealed(good, (b) => b.writeUInt32LE(0x12345678, 12))), 'MODEL_MISMATCH'],
      ['payload resealed with a wrong length field', () => engine.decompressFrame(resealed(good, (b) => b.writeUInt32LE(5, 28))), 'CORRUPT_PAYLOAD'],
      ['payload declaring 8192x8192 (past the default limit)', () => engine.decompressFrame(resealed(good, (b) => (b.writeUInt32LE(8192, 20), b.writeUInt32LE(8192, 24)))), 'LIMIT_EXCEEDED'],
      ['payload declaring 16384x16384 (past the encoder ceiling)', () => engine.decompressFrame(resealed(good, (b) => (b.writeUInt32LE(16384, 20), b.writeUInt32LE(16384, 24)))), 'CORRUPT_PAYLOAD'],
      ['payload with a reserved byte set', () => engine.decompressFrame(resealed(good, (b) => (b[11] = 1))), 'CORRUPT_PAYLOAD'],
      ['payload with an undefined flag bit', () => engine.decompressFrame(resealed(good, (b) => (b[8] |= 0x80))), 'CORRUPT_PAYLOAD'],
      ['session raising the engine limits', () => engine.openSession({ limits: { maxPixels: 64 * 1024 * 1024 } } as never), 'INVALID_ARGUMENT'],
      ['engine limits past the ceiling', () => createEngine({ limits: { maxPixels: 2 ** 40 } } as never), 'INVALID_ARGUMENT'],
      ['decompress output wrong size', () => engine.decompressFrame(good, { output: Buffer.alloc(7) }), 'OUTPUT_MISMATCH'],
      ['decompress options a string', () => engine.decompressFrame(good, 'x' as never), 'INVALID_ARGUMENT'],
      ['conceal before any audio', () => engine.openSession().concealFrame(), 'INVALID_ARGUMENT'],
      // hints and analysis
      ['hints without meta', () => s.getCompressionHints(null as never), 'INVALID_ARGUMENT'],
      ['hints bogus type', () => s.getCompressionHints({ type: 'smell' } as never), 'INVALID_ARGUMENT'],
      ['hints video without size', () => s.getCompressionHints({ type: 'video' }), 'INVALID_ARGUMENT'],
      ['hints fps negative', () => s.getCompressionHints({ type: 'video', width: 64, height: 64, fps: -1 }), 'INVALID_ARGUMENT'],
      ['analyze empty', () => analyzeNetworkConditions([]), 'INVALID_ARGUMENT'],
      // quality helpers and payload inspection
      ['imageQuality size mismatch', () => imageQuality(Buffer.alloc(12), Buffer.alloc(11), 2, 2), 'INVALID_ARGUMENT'],
      ['imageQuality bogus format', () => imageQuality(Buffer.alloc(12), Buffer.alloc(12), 2, 2, 'cmyk' as never), 'INVALID_ARGUMENT'],
      ['audioQuality not floats', () => audioQuality([1, 2] as never, new Float32Array(2), 16000), 'INVALID_ARGUMENT'],
      ['parsePayloadHeader garbage', () => parsePayloadHeader(Buffer.from('nope')), 'CORRUPT_PAYLOAD'],
      // calls after close()
      ['closed engine: openSession', () => closedEngine.openSession(), 'CLOSED'],
      ['closed engine: decompress', () => closedEngine.decompressFrame(good), 'CLOSED'],
      ['closed engine: capabilities', () => closedEngine.capabilities(), 'CLOSED'],
      ['closed session: compress', () => closedSession.compressFrame(video() as never), 'CLOSED'],
      ['closed session: hints', () => closedSession.getCompressionHints({ type: 'data' }), 'CLOSED'],
    ];
    expect(cases.length).toBeGreaterThanOrEqual(60);
    const wrong: string[] = [];
    for (const [name, call, code] of cases) {
      const got = await outcome(call);
      if (got.code !== code) wrong.push(`${name}: expected ${code}, got ${got.code ?? got.other}`);
    }
    expect(wrong).toEqual([]);
  });

  it('nothing a caller passes comes back INTERNAL or untyped: throwing getters and revoked Proxies', async () => {
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const calls: (() => unknown)[] = [
      () => engine.openSession(throwingGetter('mode') as never),
      () => engine.openSession(revoked.proxy as never),
      () => s.compressFrame(throwingGetter('type') as never),
      () => s.compressFrame(revoked.proxy as never),
      () => s.compressFrame(video() as never, throwingGetter('network') as never),
      () => engine.decompressFrame(good, throwingGetter('output') as never),
      () => s.getCompressionHints(throwingGetter('type') as never),
      () => createEngine(throwingGetter('maxSessions') as never),
    ];
    for (const call of calls) {
      const got = await outcome(call);
      expect(got.code, got.other).toBe('INVALID_ARGUMENT');
    }
  });
});
