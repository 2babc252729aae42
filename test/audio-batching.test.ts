// Dynamic batching of audio frames across sessions (src/audio-batcher.ts): many sessions' frames
// run as one native job, and what each session sends is exactly what it would send alone; one
// frame's failure in a batch is its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src/index.js';
import { callNative } from '../src/errors.js';
import { native } from '../src/native/load.js';
import { errorOf, speechLike, toS16 } from './media.js';

const RATE = 16000;
const FRAME = RATE / 50;

let engine: Engine;
beforeAll(async () => {
  engine = await createEngine();
});
afterAll(async () => {
  await engine.close();
});

/** 20 ms s16le frames of a speech-like signal (a different one per stream). */
function stream(seed: number, frames: number): Buffer[] {
  const x = speechLike(RATE, (frames * FRAME) / RATE + 0.1);
  const shifted = x.subarray((seed * 977) % (x.length - frames * FRAME));
  return Array.from({ length: frames }, (_, k) => toS16(shifted.subarray(k * FRAME, (k + 1) * FRAME)));
}

const audio = (data: Buffer) => ({ type: 'audio' as const, format: 's16le' as const, sampleRate: RATE, channels: 1, data });

describe('audio frames of many sessions are batched', () => {
  it('sends, frame for frame, the payloads and scores each session has alone, in fewer native jobs and ONNX Runtime runs than frames', async () => {
    const streams = Array.from({ length: 12 }, (_, i) => stream(i + 1, 40));
    // Alone: one session at a time, one frame at a time.
    // The score is of the shadow decoder's output: alone, each frame's own decoder run; together,
    // rows of one run (the shipped graphs take rows, training/audio/batch_axis.mjs).
    const alone: Buffer[][] = [];
    const aloneScores: number[][] = [];
    for (const frames of streams) {
      const s = engine.openSession();
      const out: Buffer[] = [];
      const scores: number[] = [];
      for (const f of frames) {
        const r = await s.compressFrame(audio(f));
        out.push(Buffer.from(r.payload));
        scores.push(r.quality.score);
      }
      s.close();
      alone.push(out);
      aloneScores.push(scores);
    }
    // Together: every session hands its next frame over in the same turn of the event loop.
    const batcher = engine.audioCodec()!.batcher;
    const model = engine.audioCodec()!.model;
    const before = batcher.stats();
    const runsBefore = model.stats();
    const sessions = streams.map(() => engine.openSession());
    const together: Buffer[][] = streams.map(() => []);
    const togetherScores: number[][] = streams.map(() => []);
    for (let k = 0; k < 40; k++) {
      const results = await Promise.all(sessions.map((s, i) => s.compressFrame(audio(streams[i]![k]!))));
      results.forEach((r, i) => {
        together[i]!.push(Buffer.from(r.payload));
        togetherScores[i]!.push(r.quality.score);
      });
    }
    for (const s of sessions) s.close();
    const after = batcher.stats();
    const runsAfter = model.stats();
    const frames = after.frames - before.frames;
    const batches = after.batches - before.batches;
    expect(frames).toBeGreaterThanOrEqual(12 * 40 * 0.9); // neural frames (a few may take the fallback)
    // Twelve frames handed over together go out in at most one job per lane.
    expect(batches).toBeLessThanOrEqual(Math.ceil(frames / 12) * batcher.lanes);
    expect(after.size.max).toBeGreaterThan(1);
    // One encoder and one decoder run per batch, not per frame.
    expect(runsAfter.encoderRuns - runsBefore.encoderRuns).toBe(batches);
    expect(runsAfter.decoderRuns - runsBefore.decoderRuns).toBe(batches);
    for (let i = 0; i < streams.length; i++) {
      for (let k = 0; k < 40; k++) expect(together[i]![k]!.equals(alone[i]![k]!), `stream ${i} frame ${k}`).toBe(true);
      expect(togetherScores[i]).toEqual(aloneScores[i]);
    }
  });
});

describe('the score is of what the receiver plays', () => {
  it("each frame's score equals the score of a receiving session's output, pushed into a window of its own", async () => {
    const codec = engine.audioCodec()!;
    const { AudioScoreWindow } = native();
    const frames = stream(5, 60);
    const tx = engine.openSession();
    const rx = engine.openSession();
    const mine = new AudioScoreWindow(RATE, 1, codec.delaySamples(RATE));
    const mono = (b: Buffer) => Float32Array.from({ length: b.length / 2 }, (_, i) => b.readInt16LE(2 * i) / 32768);
    let compared = 0;
    for (const f of frames) {
      const r = await tx.compressFrame(audio(f));
      const d = await rx.decompressFrame(r.payload);
      if (r.codec !== 'neural-audio') break; // a restart of the codec streams: the comparison ends here
      const m = mine.push(mono(f), mono(Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength)));
      expect(r.quality.score, `frame ${compared}`).toBe(m.score);
      expect(r.quality.siSnrDb).toBe(m.siSnrDb);
      compared++;
    }
    tx.close();
    rx.close();
    expect(compared).toBeGreaterThan(40);
  });

  it('holds the score to the receiver\'s output for stereo whose side is silent (L = R: an empty part the receiver fills in)', async () => {
    const codec = engine.audioCodec()!;
    const { AudioScoreWindow } = native();
    const frames = stream(7, 50).map((m) => {
      const st = Buffer.alloc(m.length * 2);
      for (let i = 0; i < m.length / 2; i++) {
        st.writeInt16LE(m.readInt16LE(2 * i), 4 * i);
        st.writeInt16LE(m.readInt16LE(2 * i), 4 * i + 2);
      }
      return st;
    });
    const tx = engine.openSession();
    const rx = engine.openSession();
    const mine = new AudioScoreWindow(RATE, 1, codec.delaySamples(RATE));
    // The session scores the channels' mean.
    const mono = (b: Buffer) => Float32Array.from({ length: b.length / 4 }, (_, i) => (b.readInt16LE(4 * i) / 32768 + b.readInt16LE(4 * i + 2) / 32768) / 2);
    let compared = 0;
    for (const f of frames) {
      const r = await tx.compressFrame({ ...audio(f), channels: 2 });
      const d = await rx.decompressFrame(r.payload);
      if (r.codec !== 'neural-audio') break;
      const m = mine.push(mono(f), mono(Buffer.from(d.data.buffer, d.data.byteOffset, d.data.byteLength)));
      expect(r.quality.score, `frame ${compared}`).toBe(m.score);
      compared++;
    }
    tx.close();
    rx.close();
    expect(compared).toBeGreaterThan(30);
  });
});

describe('the native batch call', () => {
  it('fails an item on its own: wrong streams, bytes outside the buffer, params out of range', async () => {
    const codec = engine.audioCodec()!;
    const { AudioScoreWindow, AudioEncoderStream } = native();
    const delay = codec.delaySamples(RATE);
    const window = () => new AudioScoreWindow(RATE, 1, delay);
    const frame = toS16(speechLike(RATE, 0.02).subarray(0, FRAME));
    const streams = () => [codec.createEncoder(RATE, 1).nativeStream(), codec.createDecoder().nativeStream(), window()] as const;
    const [e1, d1, w1] = streams();
    const [e2, d2, w2] = streams();
    const [e3, d3, w3] = streams();
    const [e4, d4, w4] = streams();
    // A shadow decoder of another codec object (the same model loaded again).
    const other = await engine.loadAudioCodec();
    const [e5, , w5] = streams();
    const d5 = other.createDecoder().nativeStream();
    const pcm = Buffer.concat([frame, frame, frame, frame, frame]);
    const p = (offset: number, level = 4) => [offset, frame.length, RATE, 1, 0, level, 0, 0, 0, 0];
    const params = new Float64Array([...p(0), ...p(frame.length), ...p(pcm.length), ...p(3 * frame.length, 999), ...p(4 * frame.length)]);
    // Item 1 has its shadow where its window should be; item 2's bytes lie past the buffer; item 3's
    // level is out of range; item 4's shadow belongs to another codec.
    const out = await AudioEncoderStream.encodeAndScoreBatch([e1, d1, w1, e2, w2, d2, e3, d3, w3, e4, d4, w4, e5, d5, w5], pcm, params);
    expect(out.results[19]).toBe(0);
    expect(out.results[1]).toBeGreaterThan(0);
    for (const i of [1, 2, 3, 4]) {
      expect(out.results[i * 20 + 19]).toBe(1);
      expect((out.errors![i] as Error & { code: string }).code).toBe('INVALID_ARGUMENT');
    }
    expect(out.errors![0]).toBeUndefined();
    // The good item's payload decodes.
    const payload = out.payloads.subarray(out.results[0]!, out.results[0]! + out.results[1]!);
    expect(native().parsePayloadHeader(payload).codec).toBe('neural-audio');
  });

  it('refuses malformed calls with INVALID_ARGUMENT', async () => {
    const { AudioEncoderStream } = native();
    const e = await errorOf(() => callNative(() => AudioEncoderStream.encodeAndScoreBatch([] as never, new Uint8Array(0), new Float64Array(0))));
    expect(e.code).toBe('INVALID_ARGUMENT');
    const f = await errorOf(() => callNative(() => AudioEncoderStream.encodeAndScoreBatch([{}, {}, {}] as never, new Uint8Array(4), new Float64Array(8))));
    expect(f.code).toBe('INVALID_ARGUMENT');
    const g = await errorOf(() => callNative(() => AudioEncoderStream.encodeAndScoreBatch('x' as never, 1 as never, 2 as never)));
    expect(g.code).toBe('INVALID_ARGUMENT');
  });
});
