// The default streaming audio codec through the public API: streams at every supported rate,
// mono and stereo, continuity across frames, loss concealment, corrupt payloads and bad frames.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AicError, audioQuality, createEngine, parsePayloadHeader, type AudioCodec, type Engine } from '../src/index.js';
import { speechLike, toS16 } from './media.js';


function fromS16(b: Buffer, channels = 1, channel = 0): Float32Array {
  const n = b.length / 2 / channels;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = b.readInt16LE((i * channels + channel) * 2) / 32768;
  return x;
}

/** Codes `x` frame by frame; returns the decoded signal aligned with the input (delay removed). */
async function codeStream(codec: AudioCodec, x: Float32Array, rate: number, level: number, lose: (f: number) => boolean = () => false) {
  const enc = codec.createEncoder(rate, 1);
  const dec = codec.createDecoder();
  const n = rate / 50;
  const frames = Math.floor(x.length / n);
  const out: Float32Array[] = [];
  let bytes = 0;
  for (let f = 0; f < frames; f++) {
    const { payload } = await enc.encode({ data: toS16(x.subarray(f * n, (f + 1) * n)), format: 's16le' }, { level });
    bytes += payload.length;
    const d = lose(f) && f > 0 ? await dec.conceal() : await dec.decode(payload);
    out.push(fromS16(d.data));
  }
  const y = new Float32Array(frames * n);
  out.forEach((o, i) => y.set(o, i * n));
  return { y, bytes, frames, n };
}

function alignedScore(x: Float32Array, y: Float32Array, rate: number, delay: number) {
  const len = Math.min(x.length, y.length - delay);
  return audioQuality(x.subarray(0, len), y.subarray(delay, delay + len), rate);
}

describe('audio codec (default model)', () => {
  let engine: Engine;
  let codec: AudioCodec;
  const rate = 16000;
  const x = speechLike(rate, 2);

  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
    codec = await engine.loadAudioCodec();
  });
  afterAll(async () => engine.close());

  it('ships a 16 kHz streaming model with at least 6 levels', () => {
    expect(codec.levels).toBeGreaterThanOrEqual(6);
    expect(codec.manifest.audio.frameSamples).toBe(320);
  });

  it('codes a stream with one frame of delay, bytes and quality rising with the level', async () => {
    const delay = 320; // one 20 ms frame at 16 kHz (no resampling)
    let lastBytes = 0;
    const scores: number[] = [];
    const snrs: number[] = [];
    for (let level = 0; level < codec.levels; level++) {
      const { y, bytes } = await codeStream(codec, x, rate, level);
      const q = alignedScore(x, y, rate, delay);
      expect(bytes).toBeGreaterThan(lastBytes);
      lastBytes = bytes;
      scores.push(q.score);
      snrs.push(q.siSnrDb);
    }
    console.log(`audio levels on the test signal: score ${scores.map((v) => v.toFixed(3)).join(' ')}; SI-SNR ${snrs.map((v) => v.toFixed(1)).join(' ')} dB`);
    // Quality rises with every level and the top level is clearly better than the bottom one.
    for (let i = 1; i < snrs.length; i++) expect(snrs[i]!).toBeGreaterThan(snrs[i - 1]!);
    expect(snrs[snrs.length - 1]!).toBeGreaterThan(snrs[0]! + 3);
    expect(scores[scores.length - 1]!).toBeGreaterThan(scores[0]! + 0.05);
    // One frame of delay is right: the signal lines up there.
    expect(snrs[snrs.length - 1]!).toBeGreaterThan(10);
  });

  it('codes a quiet talker about as well as a loud one (the per-frame level)', async () => {
    const level = 3;
    const loud = await codeStream(codec, x, rate, level);
    const soft = x.map((v) => v * 10 ** (-24 / 20));
    const quiet = await codeStream(codec, soft, rate, level);
    const a = alignedScore(x, loud.y, rate, 320);
    const b = alignedScore(soft, quiet.y, rate, 320);
    console.log(`level ${level}: loud ${loud.bytes} bytes, score ${a.score.toFixed(3)}; 24 dB quieter ${quiet.bytes} bytes, score ${b.score.toFixed(3)}`);
    // Gains fitted to loud speech alone would leave the quiet copy with a fraction of the bits and a
    // far lower score; the coded frame level keeps it close, and still spends fewer bytes on it.
    // (0.1: the noise fill of zeroed bins, aic-audio-v2 2.1.0, costs this synthetic voice 0.02 of
    // the score at -24 dB, 0.905 against 0.924, while it raises every measure on real speech.)
    expect(b.score).toBeGreaterThan(a.score - 0.1);
    expect(quiet.bytes).toBeLessThan(loud.bytes);
    expect(quiet.bytes).toBeGreaterThan(loud.bytes * 0.4);
  });

  it('has no clicks at frame boundaries', async () => {
    const { y } = await codeStream(codec, x, rate, codec.levels - 1);
    // The jump between consecutive samples at frame boundaries is no larger than inside frames.
    let boundary = 0;
    let inside = 0;
    let nb = 0;
    let ni = 0;
    for (let i = 640; i < y.length; i++) {
      const d = Math.abs(y[i]! - y[i - 1]!);
      if (i % 320 === 0) {
        boundary += d;
        nb++;
      } else {
        inside += d;
        ni++;
      }
    }
    expect(boundary / nb).toBeLessThan(2 * (inside / ni));
  });

  it('conceals a lost frame, disturbing at most the frame after it', async () => {
    const level = codec.levels - 1;
    const clean = await codeStream(codec, x, rate, level);
    const lossy = await codeStream(codec, x, rate, level, (f) => f === 30);
    // Frames are output one frame late: frame 30's loss shows in outputs 30 and 31 at most.
    const n = 320;
    for (let f = 0; f < clean.frames; f++) {
      const a = clean.y.subarray(f * n, (f + 1) * n);
      const b = lossy.y.subarray(f * n, (f + 1) * n);
      const same = a.every((v, i) => Math.abs(v - b[i]!) < 1e-4);
      if (f < 30 || f > 31) expect(same).toBe(true);
    }
  });

  it('streams 48 kHz stereo', async () => {
    const r = 48000;
    const x48 = speechLike(r, 0.5);
    const enc = codec.createEncoder(r, 2);
    const dec = codec.createDecoder();
    const n = r / 50;
    for (let f = 0; f < 10; f++) {
      const { payload } = await enc.encode({ data: toS16(x48.subarray(f * n, (f + 1) * n), 2), format: 's16le' });
      const h = parsePayloadHeader(payload);
      expect(h).toMatchObject({ frameType: 'audio', codec: 'neural-audio', dim0: r, dim1: (2 << 16) | n, sequence: f });
      const d = await dec.decode(payload);
      expect(d).toMatchObject({ sampleRate: r, channels: 2, format: 's16le' });
      expect(d.data.length).toBe(n * 2 * 2);
    }
  });

  it('codes stereo as mid and side: identical channels cost little more than one, and channels that differ come back apart', async () => {
    const r = 48000;
    const n = r / 50;
    const frames = 30;
    const x48 = speechLike(r, frames * 0.02);
    const interleave = (l: (i: number) => number, rr: (i: number) => number, at: number) => {
      const b = Buffer.alloc(n * 4);
      for (let i = 0; i < n; i++) {
        b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, l(at + i))) * 32767), i * 4);
        b.writeInt16LE(Math.round(Math.max(-1, Math.min(1, rr(at + i))) * 32767), i * 4 + 2);
      }
      return b;
    };
    const code = async (channels: 1 | 2, frame: (at: number) => Buffer) => {
      const enc = codec.createEncoder(r, channels);
      const dec = codec.createDecoder();
      let bytes = 0;
      const out: Buffer[] = [];
      for (let f = 0; f < frames; f++) {
        const { payload } = await enc.encode({ data: frame(f * n), format: 's16le' }, { level: 3 });
        bytes += payload.length;
        out.push((await dec.decode(payload)).data);
      }
      return { bytes, pcm: Buffer.concat(out) };
    };
    const mono = await code(1, (at) => toS16(x48.subarray(at, at + n)));
    const same = await code(2, (at) => interleave((i) => x48[i]!, (i) => x48[i]!, at));
    console.log(`stereo as mid/side, 48 kHz, level 3: mono ${mono.bytes} bytes, identical channels ${same.bytes}`);
    expect(same.bytes).toBeLessThan(1.1 * mono.bytes);  // the side is an empty part: 4 bytes of part length a frame
    // L = x, R = -x / 2: the decoded channels keep their own signs and levels.
    const apart = await code(2, (at) => interleave((i) => x48[i]!, (i) => -0.5 * x48[i]!, at));
    const delay = codec.delaySamples(r);
    let lx = 0, rx = 0, xx = 0, ll = 0, rr = 0;
    for (let i = 4 * n; i < (frames - 1) * n; i++) {
      const x = x48[i - delay]!;
      const l = apart.pcm.readInt16LE(i * 4) / 32768, rv = apart.pcm.readInt16LE(i * 4 + 2) / 32768;
      lx += l * x;
      rx += rv * x;
      xx += x * x;
      ll += l * l;
      rr += rv * rv;
    }
    expect(lx / Math.sqrt(ll * xx)).toBeGreaterThan(0.9);
    expect(rx / Math.sqrt(rr * xx)).toBeLessThan(-0.9);
    expect(Math.sqrt(rr / ll)).toBeGreaterThan(0.4);
    expect(Math.sqrt(rr / ll)).toBeLessThan(0.6);
  });

  it('sends frames between keyframes with a 7-byte header when the timestamp follows (12 when it does not), restoring sequence and timestamp across wraps and a lost frame', async () => {
    const enc = codec.createEncoder(rate, 1);
    const dec = codec.createDecoder();
    // Start just below the 16-bit sequence wrap, at a timestamp past 2^32 microseconds (the
    // timestamp's low 32 bits wrap too, at i = 67). At i = 60 the clock jumps by 0.5 s.
    const first = 65500;
    const t0 = 2 ** 32 * 1164 - 1_335_000;
    const timestampOf = (i: number) => t0 + i * 20_000 + (i >= 60 ? 500_000 : 0);
    const framing: number[] = [];
    for (let i = 0; i < 80; i++) {
      const sequence = first + i;
      const timestamp = timestampOf(i);
      const { payload } = await enc.encode({ data: toS16(x.subarray(i * 320, (i + 1) * 320)), format: 's16le' }, { level: 3, sequence, timestamp });
      const h = parsePayloadHeader(payload) as ReturnType<typeof parsePayloadHeader> & { bodyLength: number };
      const full = i % 50 === 0; // the stream's first frame and every 50th after it
      expect(h.shortForm ?? false).toBe(!full);
      framing.push(payload.length - h.bodyLength);
      if (framing.at(-1) === 12) expect(h).toMatchObject({ sequence: sequence & 0xffff, timestamp: timestamp % 2 ** 32, codec: 'neural-audio', dim0: rate });
      if (framing.at(-1) === 7) expect(h).toMatchObject({ sequence: sequence & 0xffff, qualityLevel: 3, codec: 'neural-audio', dim0: rate });
      // The frame at the jump never arrives: the two after it carry their timestamps.
      if (i === 60) {
        await dec.conceal();
        continue;
      }
      const d = await dec.decode(payload);
      expect(d.header.sequence).toBe(sequence);
      expect(d.header.timestamp).toBe(timestamp);
    }
    // Full headers at 0 and 50, the 12-byte form at the jump (60) and the two frames after it,
    // the 7-byte compact form everywhere else.
    expect(framing.map((f, i) => (i % 50 === 0 ? 44 : i >= 60 && i <= 62 ? 12 : 7))).toEqual(framing);
    // A stream without timestamps (all 0) is compact too.
    const plain = codec.createEncoder(rate, 1);
    const sizes = [];
    for (let i = 0; i < 3; i++) sizes.push((await plain.encode({ data: toS16(x.subarray(i * 320, (i + 1) * 320)), format: 's16le' }, { level: 2 })).payload);
    expect(sizes.map((p) => p[0])).toEqual([0x41, 0xa7, 0xa7]);
    // The model's 8 levels all fit the compact form's 3 bits.
    const high = (await plain.encode({ data: toS16(x.subarray(0, 320)), format: 's16le' }, { level: 7 })).payload;
    expect(high[0]).toBe(0xa7);
    // Short and compact payloads altered in transit, or tagged by another model, are refused.
    for (const payload of [sizes[1]!, (await enc.encode({ data: toS16(x.subarray(0, 320)), format: 's16le' }, { sequence: first + 80, timestamp: timestampOf(80) + 777 })).payload]) {
      const compact = payload[0] !== 0xa5;
      const bad = Buffer.from(payload);
      bad[compact ? 7 : 12] ^= 0x01;
      const receiver = codec.createDecoder();
      await receiver.decode(sizes[0]!);
      await expect(compact ? receiver.decode(bad) : dec.decode(bad)).rejects.toMatchObject({ code: 'CORRUPT_PAYLOAD' });
      const other = Buffer.from(payload);
      other[compact ? 2 : 3] ^= 0xff;
      await expect(compact ? receiver.decode(other) : dec.decode(other)).rejects.toMatchObject({ code: 'MODEL_MISMATCH' });
    }
  });

  it('refuses bad frames and corrupt payloads with typed errors', async () => {
    const enc = codec.createEncoder(16000, 1);
    await expect(enc.encode({ data: Buffer.alloc(100), format: 's16le' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const nan = new Float32Array(320).fill(NaN);
    await expect(enc.encode({ data: nan, format: 'f32le' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/finite/) });
    expect(() => codec.createEncoder(44100, 1)).toThrow(AicError);
    expect(() => codec.createEncoder(16000, 3)).toThrow(/channels/);
    const { payload } = await enc.encode({ data: toS16(x.subarray(0, 320)), format: 's16le' });
    const dec = codec.createDecoder();
    await expect(dec.conceal()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(dec.decode(payload.subarray(0, payload.length - 2))).rejects.toMatchObject({ code: 'CORRUPT_PAYLOAD' });
    const flipped = Buffer.from(payload);
    flipped[45] ^= 0x10;
    await expect(dec.decode(flipped)).rejects.toMatchObject({ code: 'CORRUPT_PAYLOAD' });
  });

  it('codes background as silence descriptors with dtx (never the first frame) and plays comfort noise for them and for frames concealed after them', async () => {
    for (const [rate, channels, size] of [[16000, 1, 7 + 7], [48000, 2, 7 + 4 + 2 * 13]] as const) {
      const enc = codec.createEncoder(rate, channels);
      const dec = codec.createDecoder();
      const n = rate / 50;
      let seed = 3;
      const faint = () => {
        const b = Buffer.alloc(n * channels * 2);
        for (let i = 0; i < n * channels; i++) {
          seed = (seed * 1103515245 + 12345) >>> 0;
          b.writeInt16LE(((seed >>> 16) % 41) - 20, i * 2);  // about -66 dBFS
        }
        return b;
      };
      const sizes: number[] = [];
      let comfort = 0;
      let energy = 0;
      for (let f = 0; f < 60; f++) {
        const { payload } = await enc.encode({ data: faint(), format: 's16le' }, { level: 3, dtx: true });
        sizes.push(payload.length);
        const d = f % 3 === 2 ? await dec.conceal() : await dec.decode(payload);
        if (d.comfortNoise) comfort++;
        if (f >= 40) for (let i = 0; i < d.data.length / 2; i++) energy += (d.data.readInt16LE(i * 2) / 32768) ** 2;
      }
      // The first frame is coded (nothing to continue from), and so is the hangover after it; the
      // room then goes out as descriptors (the stream's 51st frame in the full header).
      expect(sizes[0]!).toBeGreaterThan(size);
      expect(sizes.slice(30, 50)).toEqual(new Array(20).fill(size));
      expect(sizes[50]).toBe(size + 37);
      expect(comfort).toBeGreaterThan(30);
      // Comfort noise near the room's level (-66 dBFS), not silence and not louder than it.
      const db = 10 * Math.log10(energy / (20 * n * channels));
      expect(db).toBeGreaterThan(-80);
      expect(db).toBeLessThan(-55);
      // Speech is never a descriptor, with dtx or without.
      const tone = Buffer.alloc(n * channels * 2);
      for (let i = 0; i < n * channels; i++) tone.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), i * 2);
      const loud = await enc.encode({ data: tone, format: 's16le' }, { level: 3, dtx: true });
      expect(loud.payload.length).toBeGreaterThan(size + 32);
    }
    // A corrupt descriptor: CORRUPT_PAYLOAD, and the stream decodes on.
    const enc = codec.createEncoder(16000, 1);
    const dec = codec.createDecoder();
    let sid: Buffer | null = null;
    for (let f = 0; f < 40 && !sid; f++) {
      const { payload } = await enc.encode({ data: Buffer.alloc(640), format: 's16le' }, { dtx: true });
      if (payload.length === 14) sid = payload;
      else await dec.decode(payload);
    }
    expect(sid).not.toBeNull();
    const bad = Buffer.from(sid!);
    bad[5] = 250;  // a level out of range (the check sees the change first)
    await expect(dec.decode(bad)).rejects.toMatchObject({ code: 'CORRUPT_PAYLOAD' });
    await expect(dec.decode(Buffer.concat([sid!.subarray(0, 7), sid!.subarray(8)]))).rejects.toMatchObject({ code: 'CORRUPT_PAYLOAD' });
    expect((await dec.decode(sid!)).comfortNoise).toBe(true);
    expect(() => enc.encode({ data: Buffer.alloc(640), format: 's16le' }, { dtx: 'yes' as never })).toThrow(/dtx must be true or false/);
  });
});
