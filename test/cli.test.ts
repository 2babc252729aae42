// The `aic` command as a newcomer runs it: compress and decompress an image, a WAV recording at an
// odd rate, a Y4M clip and an arbitrary file; the summary and --json; errors and exit codes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWav } from '../src/cli/wav.js';
import { audioQuality, imageQuality } from '../src/index.js';
import { speechLike, syntheticFrame } from './media.js';

const bin = path.resolve(__dirname, '..', 'bin', 'aic.js');
const aic = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

function readFloatWav(file: string): { rate: number; channels: number; samples: Float32Array } {
  const b = readFileSync(file);
  const channels = b.readUInt16LE(22);
  const bits = b.readUInt16LE(34);
  const n = b.readUInt32LE(40) / (bits / 8) / channels;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = bits === 32 ? b.readFloatLE(44 + i * channels * 4) : b.readInt16LE(44 + i * channels * 2) / 32768;
  return { rate: b.readUInt32LE(24), channels, samples: x };
}

describe('aic command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'aic-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('compresses a PNG, prints what it measured, and decompresses it to a PNG', async () => {
    const W = 200;
    const H = 136;
    const raw = syntheticFrame(W, H);
    const png = path.join(dir, 'photo.png');
    await sharp(raw, { raw: { width: W, height: H, channels: 3 } }).png().toFile(png);
    const c = aic('compress', png);
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/ratio\s+9\d\.\d\d % saved/);
    expect(c.stdout).toMatch(/SSIM \/ PSNR\s+0\.\d+ \/ \d+\.\d+ dB/);
    expect(c.stdout).toMatch(/latency\s+p50 [\d.]+ ms, p95 [\d.]+ ms, p99/);
    const d = aic('decompress', `${png}.aic`);
    expect(d.status, d.stderr).toBe(0);
    const back = await sharp(path.join(dir, 'photo.decoded.png')).raw().toBuffer({ resolveWithObject: true });
    expect([back.info.width, back.info.height]).toEqual([W, H]);
    expect(imageQuality(raw, back.data, W, H).ssim).toBeGreaterThan(0.85);
  });

  it('reports in JSON what the container holds, and modes change it', async () => {
    const png = path.join(dir, 'photo.png');
    const run = (mode: string) => JSON.parse(execFileSync(process.execPath, [bin, 'compress', png, '-o', path.join(dir, `${mode}.aic`), '--mode', mode, '--json']).toString()) as Record<string, any>;
    const conservative = run('conservative');
    const adaptive = run('adaptive');
    const aggressive = run('aggressive');
    expect(adaptive.frames).toBe(1);
    expect(adaptive.bytesOut).toBe(statSync(path.join(dir, 'adaptive.aic')).size);
    expect(adaptive.quality.meanSsim).toBeGreaterThanOrEqual(0.85);
    expect(aggressive.bytesOut).toBeLessThanOrEqual(adaptive.bytesOut);
    expect(adaptive.bytesOut).toBeLessThan(conservative.bytesOut);
    expect(adaptive.latencyMs.p99).toBeGreaterThan(0);
    expect(Object.keys(adaptive.fallbacks)).toEqual(['quality', 'latency', 'error', 'model_unavailable']);
  });

  it('codes a stereo float WAV at 22.05 kHz and gives back a WAV of the same rate and length', () => {
    const rate = 22050;
    const x = speechLike(rate, 1.5);
    const y = x.map((v) => v * 0.5);
    const file = path.join(dir, 'voice.wav');
    writeWav(file, { sampleRate: rate, channels: [x, y], sampleFormat: 'f32' });
    const c = aic('compress', file, '--mode', 'aggressive', '--min-quality', '0.5');
    expect(c.status, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/frames\s+7[67]/);
    expect(aic('decompress', `${file}.aic`).status).toBe(0);
    const back = readFloatWav(path.join(dir, 'voice.decoded.wav'));
    expect([back.rate, back.channels, back.samples.length]).toEqual([rate, 2, x.length]);
    // Aligned with the input: the codec's delay is taken out.
    expect(audioQuality(x, back.samples, rate).score).toBeGreaterThan(0.6);
  });

  it('codes a Y4M clip frame by frame and writes a Y4M of the same header and size', () => {
    const W = 96;
    const H = 64;
    const frameBytes = W * H * 1.5;
    const header = `YUV4MPEG2 W${W} H${H} F25:1 Ip A1:1 C420jpeg\n`;
    const parts: Buffer[] = [Buffer.from(header)];
    const rgb = syntheticFrame(W + 40, H);
    for (let f = 0; f < 5; f++) {
      const yuv = Buffer.alloc(frameBytes, 128);
      for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) yuv[j * W + i] = rgb[(j * (W + 40) + i + f * 8) * 3 + 1]!;
      parts.push(Buffer.from('FRAME\n'), yuv);
    }
    const file = path.join(dir, 'clip.y4m');
    writeFileSync(file, Buffer.concat(parts));
    const c = aic('compress', file, '--json');
    expect(c.status, c.stderr).toBe(0);
    const summary = JSON.parse(c.stdout) as { frames: number; kind: string };
    expect([summary.kind, summary.frames]).toEqual(['video', 5]);
    expect(aic('decompress', `${file}.aic`, '-o', path.join(dir, 'out.y4m')).status).toBe(0);
    const out = readFileSync(path.join(dir, 'out.y4m'));
    expect(out.length).toBe(statSync(file).size);
    expect(out.subarray(0, header.length).toString()).toBe(header);
  });

  it('carries any other file exactly', () => {
    const file = path.join(dir, 'notes.bin');
    const bytes = Buffer.concat([Buffer.from('x'.repeat(5000)), Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 97) & 255))]);
    writeFileSync(file, bytes);
    expect(aic('compress', file).status).toBe(0);
    expect(aic('decompress', `${file}.aic`).status).toBe(0);
    expect(readFileSync(path.join(dir, 'notes.decoded.bin')).equals(bytes)).toBe(true);
  });

  it('shows the engine and a model manifest', () => {
    const i = aic('info', '--json');
    expect(i.status).toBe(0);
    const info = JSON.parse(i.stdout) as { ortVersion: string; codecs: { image: { name: string } } };
    expect(info.codecs.image.name).toBe('aic-image-v1');
    const m = aic('info', 'audio');
    expect(m.stdout).toMatch(/aic-audio-v2@2\.0\.0 \(audio\)/);
    expect(m.stdout).toMatch(/levels: 8/);
  });

  it('fails clearly, with a non-zero exit, on bad input', () => {
    const missing = aic('compress', path.join(dir, 'missing.png'));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    const garbage = path.join(dir, 'garbage.aic');
    writeFileSync(garbage, 'garbage');
    const g = aic('decompress', garbage);
    expect(g.status).toBe(1);
    expect(g.stderr).toMatch(/not an aic container/);
    expect(aic('compress', path.join(dir, 'notes.bin'), '--target', '7').status).toBe(2);
    expect(aic('frobnicate').status).toBe(2);
    const badY4m = path.join(dir, 'bad.y4m');
    writeFileSync(badY4m, 'YUV4MPEG2 W16 H16 F25:1 C444\nFRAME\n');
    const y = aic('compress', badY4m);
    expect(y.status).toBe(1);
    expect(y.stderr).toMatch(/4:2:0/);
  });
});
