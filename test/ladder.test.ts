// The fallback ladder and the rate controller as a media server meets them: modes that order bytes
// and scores on every photo, the link as a hard limit, the conventional codec (WebP/JPEG) where
// the network cannot serve, alpha carried, tiny frames stored, the worst tile caught, and a sender
// that never sends what its peer cannot decode. Real photos from ../shared/data/kodak.
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, imageQuality, type CompressResult, type Engine, type Frame } from '../src/index.js';
import { syntheticFrame } from './media.js';

const KODAK = path.resolve(__dirname, '..', '..', 'shared', 'data', 'kodak');

async function photo(n: number, w: number, h: number): Promise<Buffer> {
  return sharp(path.join(KODAK, `kodim${String(n).padStart(2, '0')}.png`))
    .resize({ width: w, height: h, fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer();
}

function video(data: Buffer, w: number, h: number, extra: Partial<Frame> = {}): Frame {
  return { type: 'video', format: 'rgb24', width: w, height: h, data, ...extra } as Frame;
}

/** What the receiver gets, measured independently of what the sender reported. */
async function received(engine: Engine, r: CompressResult, original: Buffer, w: number, h: number, format: 'rgb24' | 'rgba' = 'rgb24') {
  const d = await engine.decompressFrame(r.payload);
  return { frame: d, q: imageQuality(original, d.data, w, h, format) };
}

describe('fallback ladder and modes', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ executionProvider: 'cpu' });
  });
  afterAll(async () => engine.close());

  it('orders bytes and scores from off to aggressive on each photo, on its first frame, and aggressive is strictly cheaper', async () => {
    for (const n of [3, 13, 19, 23]) {
      const data = await photo(n, 384, 256);
      const rows: CompressResult[] = [];
      for (const mode of ['off', 'conservative', 'adaptive', 'aggressive'] as const) {
        const s = engine.openSession({ mode });
        rows.push(await s.compressFrame(video(data, 384, 256)));
        s.close();
      }
      for (let i = 1; i < rows.length; i++) {
        expect(rows[i]!.compressedBytes, `kodim${n} ${rows[i]!.mode}`).toBeLessThanOrEqual(rows[i - 1]!.compressedBytes);
        expect(rows[i]!.quality.score).toBeLessThanOrEqual(rows[i - 1]!.quality.score + 1e-9);
      }
      // Aggressive's floor (0.70) is reached by a cheaper level than adaptive's (0.85) on these photos.
      expect(rows[3]!.compressedBytes).toBeLessThan(rows[2]!.compressedBytes);
      for (const r of rows.slice(1)) {
        if (r.status !== 'success') continue;
        // Independently measured on what the receiver decodes: the floor and the tile floor hold.
        const { q } = await received(engine, r, data, 384, 256);
        expect(q.ssim).toBeGreaterThanOrEqual(r.minQualityScore - 1e-9);
        expect(q.worstTileSsim).toBeGreaterThanOrEqual(r.minQualityScore - 0.25 - 1e-9);
      }
    }
  });

  it('finds the lowest level that reaches the floor on a first frame by bisection, in at most log2(levels) + 1 passes', async () => {
    const codec = engine.imageCodec()!;
    for (const [n, floor] of [[13, 0.85], [23, 0.85], [3, 0.95], [19, 0.7]] as const) {
      const data = await photo(n, 256, 192);
      const r = await engine.openSession({ minQualityScore: floor, maxLatencyMs: Infinity }).compressFrame(video(data, 256, 192));
      expect(r.codec).toBe('neural-image');
      expect(r.passes).toBeLessThanOrEqual(Math.ceil(Math.log2(codec.levels)) + 1);
      const level = r.qualityLevel!;
      // The level below misses (mean or worst tile): nothing cheaper would have served.
      if (level > 0) {
        const below = await codec.compress({ data, width: 256, height: 192, format: 'rgb24' }, { startLevel: level - 1, aim: 0, maxPasses: 1 });
        expect(below.ssim < floor || below.worstTileSsim < floor - 0.25).toBe(true);
      }
    }
  });

  it("starts a session's first frame from what the engine learnt on other sessions: the same level, in fewer passes", async () => {
    const own = await createEngine({ executionProvider: 'cpu' });
    try {
      const codec = own.imageCodec()!;
      const passes: number[] = [];
      for (const n of [5, 8, 14, 18, 22, 24]) {
        const data = await photo(n, 384, 256);
        const r = await own.openSession({ maxLatencyMs: Infinity }).compressFrame(video(data, 384, 256));
        // Exactly the level a search from nothing finds: the lowest that reaches the floor.
        const plain = await codec.compress({ data, width: 384, height: 256, format: 'rgb24' }, { startLevel: 0, aim: 0.85, tileAim: 0.6, maxPasses: 4, bisect: true });
        expect(r.qualityLevel).toBe(plain.level);
        passes.push(r.passes);
      }
      // The first session searched from nothing; the later ones mostly bracket the prior's level.
      expect(passes[0]).toBeGreaterThanOrEqual(3);
      const later = passes.slice(1).sort((a, b) => a - b);
      expect(later[Math.floor(later.length / 2)]).toBeLessThanOrEqual(2);
    } finally {
      await own.close();
    }
  });

  it('floors and targets change the output of a still: a lower floor never costs more', async () => {
    const data = await photo(23, 384, 256);
    const sizes: number[] = [];
    for (const floor of [0.95, 0.9, 0.85, 0.8, 0.7]) {
      const s = engine.openSession({ minQualityScore: floor });
      sizes.push((await s.compressFrame(video(data, 384, 256))).compressedBytes);
    }
    for (let i = 1; i < sizes.length; i++) expect(sizes[i]).toBeLessThanOrEqual(sizes[i - 1]!);
    expect(sizes[sizes.length - 1]).toBeLessThan(sizes[0]!);
  });

  it('holds the link as a hard limit: every frame fits its share, and says so when the floor does not', async () => {
    const W = 640;
    const H = 360;
    const data = await photo(13, W, H); // detailed: 0.95 at this rate is out of reach
    const fps = 30;
    const kbps = 600;
    const s = engine.openSession({ mode: 'conservative' });
    const network = { availableBandwidthKbps: kbps, rttMs: 50, packetLossPercent: 0, jitterMs: 5 };
    let hintsAfter;
    for (let i = 0; i < 3; i++) {
      const r = await s.compressFrame(video(data, W, H, { fps }), { network });
      const budget = (s.networkAnalysis()!.recommendation.maxBitrateKbps * 1000) / 8 / fps;
      expect(r.compressedBytes).toBeLessThanOrEqual(budget);
      expect(r.codec).not.toBe('deflate');
      // Nothing at full size fits 2 KB: fewer pixels, said so.
      if (r.codec === 'jpeg' || r.codec === 'webp') expect(r.reductions.map((x) => x.kind)).toEqual(['resolution']);
      if (r.status === 'quality_threshold_not_met') {
        // Its score is the measured one, under the floor.
        const { q } = await received(engine, r, data, W, H);
        expect(q.ssim).toBeCloseTo(r.quality.score, 6);
        expect(q.ssim).toBeLessThan(r.minQualityScore);
      }
      hintsAfter = s.getCompressionHints({ type: 'video', width: W, height: H, fps }, network);
    }
    expect(s.stats().framesQualityNotMet).toBeGreaterThan(0);
    expect(hintsAfter!.frameBudgetBytes).toBeGreaterThan(0);
    // Fewer pixels or fewer frames would reach the floor.
    expect(hintsAfter!.recommendedMaxPixels).toBeLessThan(W * H);
    expect(hintsAfter!.recommendedFps).toBeLessThan(fps);
  });

  it("the README's example, as written with an fps, on a real photo panning at 640x360: every frame fits the link, none lossless", async () => {
    const W = 640;
    const H = 360;
    const big = await photo(21, 1000, 600);
    const tx = engine.openSession({ sessionId: 'call-1/alice/cam', mode: 'adaptive' }); // maxLatencyMs at its default
    const rx = engine.openSession({ sessionId: 'call-1/bob/alice-cam' });
    const network = { availableBandwidthKbps: 2500, rttMs: 60, packetLossPercent: 1, jitterMs: 8 };
    let bytes = 0;
    for (let i = 0; i < 20; i++) {
      const x0 = Math.round((i * (1000 - W)) / 19);
      const data = Buffer.alloc(W * H * 3);
      for (let y = 0; y < H; y++) big.copy(data, y * W * 3, ((y + 100) * 1000 + x0) * 3, ((y + 100) * 1000 + x0 + W) * 3);
      const r = await tx.compressFrame({ type: 'video', format: 'rgb24', width: W, height: H, data, fps: 30 }, { network });
      expect(r.compressedBytes).toBeLessThanOrEqual((tx.networkAnalysis()!.recommendation.maxBitrateKbps * 1000) / 8 / 30);
      expect(['neural-image', 'predicted', 'jpeg', 'webp']).toContain(r.codec);
      const d = await rx.decompressFrame(r.payload);
      const measured = imageQuality(data, d.data, W, H).ssim;
      if (r.quality.verified) expect(measured).toBeCloseTo(r.quality.score, 6);
      // Open-loop frames report a cautious prediction: what the receiver gets is not worse than it by much.
      else expect(measured).toBeGreaterThan(r.quality.score - 0.02);
      if (r.status === 'success') expect(r.quality.score).toBeGreaterThanOrEqual(0.85);
      bytes += r.compressedBytes;
    }
    expect(tx.stats().framesLossless).toBe(0);
    // Predicted frames by default: after the keyframe, the pan is coded against the last frame.
    console.log(`README example: ${((bytes * 8) / (20 / 30) / 1000).toFixed(0)} kbit/s, ${JSON.stringify(tx.stats().video)}`);
    expect(tx.stats().video.predictedFrames).toBeGreaterThanOrEqual(15);
    expect((bytes * 8) / (20 / 30) / 1000).toBeLessThan(1000); // kbit/s, the keyframe included (intra-only coding: over 2000)
  });

  it('sends what the neural path cannot serve as JPEG or WebP at the floor, not losslessly', async () => {
    const data = await photo(19, 256, 192);
    // A floor over the network's top level on this photo (0.980), under JPEG's best (0.987).
    const s = engine.openSession({ minQualityScore: 0.985, maxLatencyMs: Infinity });
    const r = await s.compressFrame(video(data, 256, 192));
    expect([r.status, r.fallbackReason]).toEqual(['fallback', 'quality']);
    expect(['jpeg', 'webp']).toContain(r.codec);
    const { frame, q } = await received(engine, r, data, 256, 192);
    expect(frame.codec).toBe(r.codec);
    expect(frame.fallback).toBe(true);
    expect(q.ssim).toBeCloseTo(r.quality.ssim!, 6);
    expect(q.ssim).toBeGreaterThanOrEqual(0.985);
    expect(r.compressedBytes).toBeLessThan(r.originalBytes / 3);
    // On request, lossless instead.
    const exact = engine.openSession({ minQualityScore: 0.985, maxLatencyMs: Infinity, fallbackCodec: 'lossless' });
    const e = await exact.compressFrame(video(data, 256, 192));
    expect(['deflate', 'stored']).toContain(e.codec);
    expect(Buffer.compare((await engine.decompressFrame(e.payload)).data, data)).toBe(0);
  });

  it('codes i420 frames through the conventional codec and decodes them as i420', async () => {
    const bare = await createEngine({ executionProvider: 'cpu', models: { image: false, audio: false } });
    try {
      const w = 97;
      const h = 63; // odd sizes: chroma rounds up
      const rgb = await photo(7, w, h);
      const i420 = Buffer.from(await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).raw().toBuffer());
      const yuv = Buffer.alloc(w * h + 2 * Math.ceil(w / 2) * Math.ceil(h / 2), 128);
      for (let i = 0; i < w * h; i++) yuv[i] = Math.round(16 + 0.257 * i420[i * 3]! + 0.504 * i420[i * 3 + 1]! + 0.098 * i420[i * 3 + 2]!);
      const r = await bare.openSession().compressFrame({ type: 'video', format: 'i420', width: w, height: h, data: yuv });
      expect([r.codec, r.fallbackReason]).toEqual(['jpeg', 'model_unavailable']);
      const d = await bare.decompressFrame(r.payload);
      expect([d.format, d.data.length]).toEqual(['i420', yuv.length]);
      expect(imageQuality(yuv, d.data, w, h, 'i420').ssim).toBeCloseTo(r.quality.ssim!, 6);
    } finally {
      await bare.close();
    }
  });

  it('carries rgba alpha exactly', async () => {
    const w = 96;
    const h = 64;
    const rgba = syntheticFrame(w, h, 4);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgba[(y * w + x) * 4 + 3] = (x * 255) / (w - 1); // a gradient of transparency
    const r = await engine.openSession().compressFrame({ type: 'video', format: 'rgba', width: w, height: h, data: rgba });
    expect([r.status, r.codec]).toEqual(['success', 'webp']);
    const d = await engine.decompressFrame(r.payload);
    for (let i = 3; i < rgba.length; i += 4) expect(d.data[i]).toBe(rgba[i]);
    expect(imageQuality(rgba, d.data, w, h, 'rgba').ssim).toBeGreaterThanOrEqual(0.85);
  });

  it('sends tiny frames stored when that is smaller, and no payload over the frame stored plus its header', async () => {
    const s = engine.openSession();
    const r = await s.compressFrame({ type: 'video', format: 'rgb24', width: 1, height: 1, data: Buffer.from([10, 200, 30]) });
    expect(r.codec).toBe('stored');
    expect(r.compressedBytes).toBe(3 + 44);
    expect(r.status).toBe('success');
    expect([...(await engine.decompressFrame(r.payload)).data]).toEqual([10, 200, 30]);
    for (const [w, h] of [[2, 2], [7, 3], [16, 16]] as const) {
      const f = await s.compressFrame({ type: 'screen', format: 'rgb24', width: w, height: h, data: syntheticFrame(w, h) });
      expect(f.compressedBytes).toBeLessThanOrEqual(w * h * 3 + 44);
    }
  });

  it('reports the worst tile, which catches a damaged block that the mean SSIM hides', async () => {
    const W = 512;
    const H = 384;
    const data = await photo(23, W, H);
    const damaged = Buffer.from(data);
    for (let y = 64; y < 160; y++) for (let x = 192; x < 288; x++) for (let c = 0; c < 3; c++) damaged[(y * W + x) * 3 + c] = (x * 37 + y * 91 + c * 53) & 255;
    const q = imageQuality(data, damaged, W, H);
    expect(q.ssim).toBeGreaterThan(0.9); // the mean barely moves
    expect(q.worstTileSsim).toBeLessThan(0.3); // the tile does
    expect(imageQuality(data, data, W, H).worstTileSsim).toBeCloseTo(1, 9);
  });

  it('never sends what the peer cannot decode', async () => {
    const data = await photo(3, 192, 128);
    const caps = engine.capabilities();
    expect(caps.bitstreamVersions).toContain(1);
    expect(caps.codecs).toEqual(expect.arrayContaining(['neural-image', 'jpeg', 'webp', 'deflate', 'stored']));
    expect(caps.models.image).toEqual([engine.imageCodec()!.modelId]);
    const same = await engine.openSession({ peerCapabilities: caps, maxLatencyMs: Infinity }).compressFrame(video(data, 192, 128));
    expect(same.codec).toBe('neural-image');
    // An older receiver: another model, no WebP.
    const older = { bitstreamVersions: [1], codecs: ['neural-image', 'jpeg', 'deflate', 'stored'], models: { image: [12345], audio: [] } } as never;
    const r = await engine.openSession({ peerCapabilities: older, maxLatencyMs: Infinity }).compressFrame(video(data, 192, 128));
    expect([r.codec, r.fallbackReason]).toEqual(['jpeg', 'model_unavailable']);
    const bare = { bitstreamVersions: [1], codecs: ['deflate', 'stored', 'some-future-codec'], models: { image: [], audio: [] } } as never;
    const l = await engine.openSession({ peerCapabilities: bare, maxLatencyMs: Infinity }).compressFrame(video(data, 192, 128));
    expect(['deflate', 'stored']).toContain(l.codec);
    expect(() => engine.openSession({ peerCapabilities: { codecs: 'all' } as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // Audio: a peer without the audio model gets Opus; one without Opus either, lossless.
    const tone = Buffer.alloc(320 * 2);
    for (let i = 0; i < 320; i++) tone.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000)), i * 2);
    const audioFrame = { type: 'audio', format: 's16le', sampleRate: 16000, channels: 1, data: tone } as Frame;
    const noModel = { bitstreamVersions: [1], codecs: ['neural-audio', 'opus', 'deflate', 'stored'], models: { image: [], audio: [999] } } as never;
    const a1 = await engine.openSession({ peerCapabilities: noModel }).compressFrame(audioFrame);
    expect([a1.codec, a1.fallbackReason]).toEqual(['opus', 'model_unavailable']);
    const noOpus = { bitstreamVersions: [1], codecs: ['deflate', 'stored'], models: { image: [], audio: [] } } as never;
    const a2 = await engine.openSession({ peerCapabilities: noOpus }).compressFrame(audioFrame);
    expect(['deflate', 'stored']).toContain(a2.codec);
  });

  it('never rejects an audio frame the fallback cannot make smaller: 8 kHz noise goes out stored, every payload decodes', async () => {
    const bare = await createEngine({ executionProvider: 'cpu', models: { image: false, audio: false } });
    try {
      const tx = bare.openSession({ mode: 'conservative' });
      const rx = bare.openSession();
      let seed = 3;
      for (let i = 0; i < 40; i++) {
        const b = Buffer.alloc(320);
        for (let k = 0; k < 160; k++) b.writeInt16LE(((seed = (seed * 1103515245 + 12345) % 2147483648) % 40000) - 20000, k * 2);
        const r = await tx.compressFrame({ type: 'audio', format: 's16le', sampleRate: 8000, channels: 1, data: b });
        expect(r.compressedBytes).toBeLessThanOrEqual(320 + 44);
        const d = await rx.decompressFrame(r.payload);
        expect(d.data.length).toBe(320);
      }
    } finally {
      await bare.close();
    }
  });

  it('refuses conventional payloads that lie about their size, and corrupt bodies, with CORRUPT_PAYLOAD', async () => {
    const data = await photo(3, 64, 48);
    const bare = await createEngine({ executionProvider: 'cpu', models: { image: false, audio: false } });
    try {
      const r = await bare.openSession().compressFrame(video(data, 64, 48));
      expect(r.codec).toBe('jpeg');
      const { native } = await import('../src/native/load.js');
      const h = native().parsePayloadHeader(r.payload);
      const body = r.payload.subarray(h.bodyOffset, h.bodyOffset + h.bodyLength);
      const repack = (dims: [number, number], b: Buffer) =>
        native().packPayload({ frameType: 'video', codec: 'jpeg', format: 0, modelId: 0, sequence: 0, dim0: dims[0], dim1: dims[1], fallback: true }, b);
      for (const bad of [repack([16384, 16384], body), repack([32, 24], body), repack([64, 48], body.subarray(0, 40)), repack([64, 48], Buffer.from('not a jpeg at all'))]) {
        await expect(bare.decompressFrame(bad)).rejects.toMatchObject({ code: 'CORRUPT_PAYLOAD' });
      }
    } finally {
      await bare.close();
    }
  });
});
