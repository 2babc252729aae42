// Issue 13, parts 2 and 3: decoder limits (decompression bombs) and the strict payload parser.
// The header parser below is written from docs/bitstream.md alone (not from bitstream.cc) and is
// run against the native parser on valid payloads of every codec and on many mutations of them.
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeConventional } from '../src/conventional/image.js';
import { createEngine, type Engine } from '../src/index.js';
import { native } from '../src/native/load.js';
import { errorOf, speechLike, syntheticFrame, toS16 } from './media.js';

const deflate = promisify(zlib.deflate);

// --- CRC-32C and a payload writer, from the doc ----------------------------------------------
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32c(b: Uint8Array, end = b.length): number {
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
/** Rewrites the trailing CRC-32C of a full-form payload. */
function reseal(b: Buffer): Buffer {
  if (b.length >= 44) b.writeUInt32LE(crc32c(b, b.length - 4), b.length - 4);
  return b;
}

interface Fields {
  frameType?: number;
  codec?: number;
  flags?: number;
  quality?: number;
  format?: number;
  modelId?: number;
  dim0?: number;
  dim1?: number;
  timestamp?: bigint;
}
function payload(f: Fields, body: Uint8Array): Buffer {
  const b = Buffer.alloc(44 + body.length);
  b.write('AICF', 0, 'latin1');
  b[4] = 1;
  b[5] = 40;
  b[6] = f.frameType ?? 0;
  b[7] = f.codec ?? 0;
  b[8] = f.flags ?? 1;
  b[9] = f.quality ?? 0;
  b[10] = f.format ?? 0;
  b.writeUInt32LE(f.modelId ?? 0, 12);
  b.writeUInt32LE(7, 16);
  b.writeUInt32LE(f.dim0 ?? 0, 20);
  b.writeUInt32LE(f.dim1 ?? 0, 24);
  b.writeUInt32LE(body.length, 28);
  b.writeBigUInt64LE(f.timestamp ?? 1000n, 32);
  Buffer.from(body).copy(b, 40);
  return reseal(b);
}

// --- An independent header reader, written from docs/bitstream.md --------------------------------
type Verdict = 'ok' | 'corrupt' | 'unsupported';
function docVerdict(b: Buffer): Verdict {
  if (b.length < 6) return 'corrupt';
  // Byte 1's bit 4: a silence descriptor; bits 5-7 zero.
  if (b[0] === 0xa5) return b.length >= 13 && (b[1]! & 0xe0) === 0 ? 'ok' : 'corrupt';
  // The compact form: every value of byte 1 is legal (its bits 5-7 are the quality level).
  if (b[0] === 0xa6 || b[0] === 0xa7) return b.length >= 8 ? 'ok' : 'corrupt';
  // The compact predicted form (version 3; 0xAA/0xAB an I420 stream's, version 4, whose byte 1
  // bit 7 is 0): qp <= 51, two shortest LEB128 differences in range, >= 5 bytes of coded data.
  if (b[0] === 0xa8 || b[0] === 0xa9 || b[0] === 0xaa || b[0] === 0xab) {
    if (b.length < 18 || (b[1]! & 0x3f) > 51) return 'corrupt';
    if (b[0] >= 0xaa && (b[1]! & 0x80) !== 0) return 'corrupt';
    let at = 7;
    const leb = (maxBytes: number): bigint | null => {
      let v = 0n;
      for (let i = 0; i < maxBytes; i++) {
        if (at >= b.length - 4) return null;
        const x = b[at++]!;
        v |= BigInt(x & 0x7f) << BigInt(7 * i);
        if (!(x & 0x80)) return x === 0 && i > 0 ? null : v;
      }
      return null;
    };
    const seq = leb(5);
    if (seq === null || seq < 1n || seq > 2n ** 31n - 1n) return 'corrupt';
    const ts = leb(8);
    if (ts === null || ts > 2n ** 53n - 1n) return 'corrupt';
    return b.length - 4 - at >= 5 ? 'ok' : 'corrupt';
  }
  if (b.toString('latin1', 0, 4) !== 'AICF') return 'corrupt';
  if (b[4] !== 1 && b[4] !== 2) return 'unsupported';
  if (b[5] !== 40 || b.length < 44) return 'corrupt';
  const n = b.readUInt32LE(28);
  if (40 + n + 4 !== b.length) return 'corrupt';
  if (crc32c(b, b.length - 4) !== b.readUInt32LE(b.length - 4)) return 'corrupt';
  const [type, codec, flags, quality, format, reserved] = [b[6]!, b[7]!, b[8]!, b[9]!, b[10]!, b[11]!];
  const modelId = b.readUInt32LE(12);
  const dim0 = b.readUInt32LE(20);
  const dim1 = b.readUInt32LE(24);
  // Flags: bit 0 keyframe, bit 1 fallback, bit 2 deblocked (predicted only), bit 3 silence descriptor (neural audio, never with bit 1).
  if (type > 3 || codec > 7 || (flags & 0xf0) !== 0 || reserved !== 0) return 'corrupt';
  // Version 2 carries predicted frames (codec 7) and nothing else.
  if ((b[4] === 2) !== (codec === 7)) return 'corrupt';
  if ((flags & 4) !== 0 && codec !== 7) return 'corrupt';
  if (codec === 7 && ((flags & ~4) !== 0 || quality > 51 || format > 2 || n < 13)) return 'corrupt';
  if ((flags & 8) !== 0 && (codec !== 1 || (flags & 2) !== 0)) return 'corrupt';
  if (b.readBigUInt64LE(32) > 2n ** 53n - 1n) return 'corrupt';
  const imageCodec = codec === 0 || codec === 4 || codec === 5 || codec === 7;
  const audioCodec = codec === 1 || codec === 6;
  const imageType = type === 0 || type === 2;
  if (imageCodec && !imageType) return 'corrupt';
  if (audioCodec && type !== 1) return 'corrupt';
  if (codec >= 2 && codec !== 7 && modelId !== 0) return 'corrupt';
  if ((codec === 2 || codec === 3) && quality !== 0) return 'corrupt';
  if ((codec === 4 || codec === 5) && (quality < 1 || quality > 100)) return 'corrupt';
  if (codec === 6 && quality < 1) return 'corrupt';
  let size: number;
  if (imageType) {
    if (format > 2 || dim0 < 1 || dim0 > 16384 || dim1 < 1 || dim1 > 16384 || dim0 * dim1 > 2 ** 26) return 'corrupt';
    size = format === 2 ? dim0 * dim1 + 2 * Math.ceil(dim0 / 2) * Math.ceil(dim1 / 2) : dim0 * dim1 * (format === 1 ? 4 : 3);
  } else if (type === 1) {
    const channels = dim1 >>> 16;
    if (format > 1 || ![8000, 16000, 32000, 48000].includes(dim0) || (channels !== 1 && channels !== 2) || (dim1 & 0xffff) !== dim0 / 50) return 'corrupt';
    size = (dim0 / 50) * channels * (format === 1 ? 4 : 2);
  } else {
    if (format !== 0 || dim1 !== 0 || dim0 > 64 * 1024 * 1024) return 'corrupt';
    size = dim0;
  }
  if (codec === 3 && n !== size) return 'corrupt';
  if (codec === 2 && n >= size) return 'corrupt';
  if (codec !== 2 && codec !== 3 && n < 1) return 'corrupt';
  return 'ok';
}

function nativeVerdict(b: Buffer): Verdict {
  try {
    native().parsePayloadHeader(b);
    return 'ok';
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'CORRUPT_PAYLOAD') return 'corrupt';
    if (code === 'UNSUPPORTED_VERSION') return 'unsupported';
    throw error;
  }
}

let engine: Engine; // default models
let bare: Engine; // no models: frames go down the conventional ladder
let big: Engine; // limits raised to the encoder's ceilings
const W = 64;
const H = 48;

beforeAll(async () => {
  [engine, bare, big] = await Promise.all([
    createEngine({ executionProvider: 'cpu' }),
    createEngine({ executionProvider: 'cpu', models: { image: false, audio: false } }),
    createEngine({ executionProvider: 'cpu', models: { audio: false }, limits: { maxPixels: 2 ** 26, maxDataBytes: 64 * 1024 * 1024 } }),
  ]);
}, 120_000);
afterAll(async () => {
  await Promise.all([engine?.close(), bare?.close(), big?.close()]);
});

/** Real payloads of every codec and form, as the encoders write them. */
async function validPayloads(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const rgb = syntheticFrame(W, H);
  const rgba = syntheticFrame(W, H, 4);
  for (let i = 3; i < rgba.length; i += 40) rgba[i] = 100; // translucent: WebP
  const s = engine.openSession({ sessionId: 'valid-neural', interFrames: false });
  out.push((await s.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: rgb })).payload);
  out.push((await s.compressFrame({ type: 'screen', format: 'rgb24', width: W, height: H, data: rgb })).payload);
  // Predicted frames in the compact form (version 3) and, to a peer that reads version 2 only, the full one.
  const caps = engine.capabilities();
  for (const peerCapabilities of [undefined, { ...caps, bitstreamVersions: [1, 2] }]) {
    const v = engine.openSession({ interFrames: true, maxLatencyMs: Infinity, ...(peerCapabilities ? { peerCapabilities } : {}) });
    const moved = Buffer.from(rgb);
    moved.copy(moved, 3, 0, moved.length - 3);
    for (const [k, data] of [rgb, moved, rgb].entries()) {
      const r = await v.compressFrame({ type: k === 2 ? 'screen' : 'video', format: 'rgb24', width: W, height: H, data, timestamp: 1000 + 33_333 * k });
      if (k > 0) expect(r.codec).toBe('predicted');
      out.push(r.payload);
    }
    v.close();
  }
  // An I420 stream's predicted frames (version 4): compact, then the full form (its clock went back).
  const yuv = Buffer.alloc((W * H * 3) / 2, 128);
  for (let i = 0; i < W * H; i++) yuv[i] = 16 + ((rgb[3 * i]! * 219) >> 8);
  const movedYuv = Buffer.from(yuv);
  movedYuv.copy(movedYuv, 1, 0, W * H - 1);
  const v4 = engine.openSession({ interFrames: true, maxLatencyMs: Infinity });
  for (const [k, [data, timestamp]] of ([[yuv, 5000], [movedYuv, 40_000], [yuv, 80_000], [movedYuv, 0]] as const).entries()) {
    const r = await v4.compressFrame({ type: k === 2 ? 'screen' : 'video', format: 'i420', width: W, height: H, data, timestamp });
    if (k > 0) expect(r.codec).toBe('predicted');
    out.push(r.payload);
  }
  v4.close();
  for (const rate of [16000, 48000]) {
    const x = toS16(speechLike(rate, 0.1));
    const n = (rate / 50) * 2;
    for (let at = 0; at + n <= x.length && at < 3 * n; at += n) {
      out.push((await s.compressFrame({ type: 'audio', format: 's16le', sampleRate: rate, channels: 1, data: x.subarray(at, at + n) })).payload);
    }
    // A timestamp that does not follow (0 so far): the short form, with its timestamp.
    out.push((await s.compressFrame({ type: 'audio', format: 's16le', sampleRate: rate, channels: 1, data: x.subarray(0, n), timestamp: 123_457 })).payload);
  }
  out.push((await s.compressFrame({ type: 'data', data: Buffer.alloc(3000, 1) })).payload); // deflate
  out.push((await s.compressFrame({ type: 'data', data: Buffer.from([1, 200, 3]) })).payload); // stored
  s.close();
  const c = bare.openSession({ sessionId: 'valid-conventional' });
  out.push((await c.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: rgb })).payload); // JPEG
  out.push((await c.compressFrame({ type: 'video', format: 'rgba', width: W, height: H, data: rgba })).payload); // WebP
  const y = toS16(speechLike(48000, 0.05));
  out.push((await c.compressFrame({ type: 'audio', format: 's16le', sampleRate: 48000, channels: 1, data: y.subarray(0, 1920) })).payload); // Opus
  c.close();
  const l = bare.openSession({ sessionId: 'valid-lossless', fallbackCodec: 'lossless' });
  out.push((await l.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: rgb })).payload);
  l.close();
  return out;
}

describe('the strict parser agrees with docs/bitstream.md', () => {
  it('on valid payloads of every codec and on mutations of every byte', async () => {
    const valid = await validPayloads();
    const codecs = new Set(valid.map((p) => (p[0] === 0xa5 ? 'short' : p[0] === 0xa6 || p[0] === 0xa7 ? 'compact' : p[0] === 0xa8 || p[0] === 0xa9 ? 'compact predicted' : p[0] === 0xaa || p[0] === 0xab ? 'compact predicted i420' : p[7])));
    expect(codecs).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 'short', 'compact', 'compact predicted', 'compact predicted i420']));
    for (const p of valid) expect([docVerdict(p), nativeVerdict(p)]).toEqual(['ok', 'ok']);
    let cases = 0;
    let rejected = 0;
    const disagreements: string[] = [];
    const compare = (m: Buffer, what: string) => {
      const d = docVerdict(m);
      const n = nativeVerdict(m);
      cases++;
      if (d !== 'ok') rejected++;
      if (d !== n && disagreements.length < 10) disagreements.push(`${what}: doc ${d}, native ${n}`);
    };
    const interesting = [0, 1, 2, 3, 40, 41, 100, 255, 320, 960, 8000, 16000, 16384, 16385, 48000, 0x10000 | 320, 0x20000 | 960, 0x30000 | 960, 2 ** 26, 2 ** 26 + 1, 0xffffffff];
    let seed = 11;
    const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0);
    for (const [k, p] of valid.entries()) {
      const short = p[0] >= 0xa5 && p[0] <= 0xab;
      const positions = [...Array(Math.min(p.length, 48)).keys(), p.length - 4, p.length - 3, p.length - 2, p.length - 1];
      for (const i of positions) {
        for (const x of [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff, (rand() % 255) + 1]) {
          const m = Buffer.from(p);
          m[i]! ^= x;
          // Re-sealed: the mutation must be caught (or accepted) by the field checks, not the CRC.
          if (!short && i < p.length - 4) reseal(m);
          compare(m, `payload ${k} byte ${i} ^ ${x}`);
        }
      }
      if (!short) {
        for (const at of [12, 20, 24, 28, 32, 36]) {
          for (const v of interesting) {
            const m = Buffer.from(p);
            m.writeUInt32LE(v >>> 0, at);
            compare(reseal(m), `payload ${k} u32 @${at} = ${v}`);
          }
        }
        for (const len of [41, 48, 255]) {
          const m = Buffer.concat([p.subarray(0, 40), Buffer.alloc(len - 40, 0xee), p.subarray(40)]);
          m[5] = len;
          compare(reseal(m), `payload ${k} header length ${len}`);
        }
      }
      for (const cut of [1, 5, 12, 13, p.length - 1]) compare(p.subarray(0, cut), `payload ${k} cut to ${cut}`);
      compare(Buffer.concat([p, Buffer.from([0])]), `payload ${k} padded`);
    }
    expect(disagreements).toEqual([]);
    expect(cases).toBeGreaterThan(5_000);
    expect(rejected).toBeGreaterThan(cases / 3);
  }, 120_000);

  it('names the field it refuses', async () => {
    const e = await errorOf(engine.decompressFrame(payload({ modelId: 0, dim0: W, dim1: H, flags: 0x81 }, Buffer.from([1, 0, 0, 0, 0]))));
    expect(e.code).toBe('CORRUPT_PAYLOAD');
    expect(e.message).toMatch(/flags/);
    const img = payload({ frameType: 1, modelId: engine.imageCodec()!.modelId, dim0: W, dim1: H }, Buffer.from([1, 0, 0, 0, 0]));
    const t = await errorOf(engine.decompressFrame(img));
    expect([t.code, t.message]).toEqual(['CORRUPT_PAYLOAD', expect.stringMatching(/frame type is audio/)]);
    const q = await errorOf(engine.decompressFrame(payload({ modelId: engine.imageCodec()!.modelId, dim0: W, dim1: H, quality: 250 }, Buffer.from([1, 0, 0, 0, 0]))));
    expect([q.code, q.message]).toEqual(['CORRUPT_PAYLOAD', expect.stringMatching(/quality level is 250/)]);
  });

  it('returns timestamps exactly and refuses those above 2^53 - 1', async () => {
    const ok = await engine.decompressFrame(payload({ frameType: 3, codec: 3, flags: 1, dim0: 2, timestamp: 2n ** 53n - 1n }, Buffer.from([5, 6])));
    expect(ok.timestamp).toBe(Number.MAX_SAFE_INTEGER);
    const e = await errorOf(engine.decompressFrame(payload({ frameType: 3, codec: 3, flags: 1, dim0: 2, timestamp: 2n ** 53n }, Buffer.from([5, 6]))));
    expect([e.code, e.message]).toEqual(['CORRUPT_PAYLOAD', expect.stringMatching(/timestamp/)]);
  });
});

describe('decoder limits', () => {
  // A neural image payload of a declared size with a tiny body (two bands of a few bytes).
  const bomb = (e: Engine, w: number, h: number) => payload({ modelId: e.imageCodec()!.modelId, dim0: w, dim1: h }, Buffer.from([2, 5, 0, 0, 0, 1, 2, 3, 4, 5, 1, 2, 3, 4, 5]));

  it('refuses a 16384x16384 payload as corrupt (over the encoder ceiling) and 8192x8192 with LIMIT_EXCEEDED, fast', async () => {
    const t0 = performance.now();
    const e1 = await errorOf(engine.decompressFrame(bomb(engine, 16384, 16384)));
    expect([e1.code, e1.message]).toEqual(['CORRUPT_PAYLOAD', expect.stringMatching(/width x height/)]);
    const e2 = await errorOf(engine.decompressFrame(bomb(engine, 8192, 8192)));
    expect(e2.code).toBe('LIMIT_EXCEEDED');
    expect(e2.message).toMatch(/maxPixels of 16777216.*createEngine\(\{ limits: \{ maxPixels \} \}\)/);
    expect(performance.now() - t0).toBeLessThan(200);
  });

  it('checks the body against the least legal body before allocating for the frame', async () => {
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const e = await errorOf(big.decompressFrame(bomb(big, 8192, 8192)));
    expect([e.code, e.message]).toEqual(['CORRUPT_PAYLOAD', expect.stringMatching(/band 0 is 5 bytes, shorter than/)]);
    expect(performance.now() - t0).toBeLessThan(200);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(100 * 1024 * 1024);
  });

  it('keeps the thread pool free: four bombs do not hold up a small decode', async () => {
    const s = engine.openSession({ sessionId: 'small' });
    const small = (await s.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: syntheticFrame(W, H) })).payload;
    s.close();
    const bombs = [1, 2, 3, 4].map(() => engine.decompressFrame(bomb(engine, 8192, 8192)).catch((e: unknown) => e));
    const t0 = performance.now();
    const d = await engine.decompressFrame(small);
    expect(d.width).toBe(W);
    expect(performance.now() - t0).toBeLessThan(2000);
    for (const b of await Promise.all(bombs)) expect((b as { code: string }).code).toBe('LIMIT_EXCEEDED');
  });

  it('stops inflating at the declared size and applies maxDataBytes', async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const body = await deflate(zeros, { level: 9 });
    expect(body.length).toBeLessThan(100_000);
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const small = await errorOf(engine.decompressFrame(payload({ frameType: 3, codec: 2, dim0: 1024 * 1024 }, body)));
    expect(small.code).toBe('CORRUPT_PAYLOAD');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(32 * 1024 * 1024);
    const over = await errorOf(engine.decompressFrame(payload({ frameType: 3, codec: 2, dim0: 64 * 1024 * 1024 }, body)));
    expect([over.code, over.message]).toEqual(['LIMIT_EXCEEDED', expect.stringMatching(/maxDataBytes of 16777216/)]);
    const raised = await big.decompressFrame(payload({ frameType: 3, codec: 2, dim0: 64 * 1024 * 1024 }, body));
    expect(raised.data.length).toBe(64 * 1024 * 1024);
  }, 30_000);

  it('refuses a conventional body larger than its header before decoding pixels', async () => {
    const body = await encodeConventional({ data: syntheticFrame(256, 256), width: 256, height: 256, format: 'rgb24' }, 'webp', 50);
    const e = await errorOf(engine.decompressFrame(payload({ codec: 4, quality: 50, flags: 3, dim0: W, dim1: H }, body)));
    expect(e.code).toBe('CORRUPT_PAYLOAD');
  });

  it('are set per engine, lowered per session, never raised past the ceilings', async () => {
    expect((await errorOf(createEngine({ executionProvider: 'cpu', models: { image: false, audio: false }, limits: { maxPixels: 2 ** 26 + 1 } }))).code).toBe('INVALID_ARGUMENT');
    expect((await errorOf(createEngine({ executionProvider: 'cpu', models: { image: false, audio: false }, limits: { maxFrames: 1 } as never }))).code).toBe('INVALID_ARGUMENT');
    expect(() => engine.openSession({ sessionId: 'higher', limits: { maxPixels: 2 ** 25 } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const tx = engine.openSession({ sessionId: 'tx' });
    const frame = (await tx.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data: syntheticFrame(W, H) })).payload;
    tx.close();
    const rx = engine.openSession({ sessionId: 'rx-low', limits: { maxPixels: 1000 } });
    const e = await errorOf(rx.decompressFrame(frame));
    expect([e.code, e.message]).toEqual(['LIMIT_EXCEEDED', expect.stringMatching(/maxPixels of 1000/)]);
    rx.close();
    const low = await createEngine({ executionProvider: 'cpu', models: { audio: false }, limits: { maxPixels: 1000 } });
    expect((await errorOf(low.decompressFrame(frame))).code).toBe('LIMIT_EXCEEDED');
    await low.close();
    expect((await engine.decompressFrame(frame)).width).toBe(W);
  }, 60_000);
});
