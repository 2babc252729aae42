// The `aic` command as a newcomer runs it: compress and decompress an image, a WAV recording at an
// odd rate, a Y4M clip and an arbitrary file; the summary and --json; errors and exit codes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
    expect(m.stdout).toMatch(/aic-audio-v2@2\.1\.0 \(audio\)/);
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

describe('aic behaves like a command line', () => {
  let dir: string;
  let png: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'aic-cli-ux-'));
    png = path.join(dir, 'photo.png');
    await sharp(syntheticFrame(160, 96), { raw: { width: 160, height: 96, channels: 3 } }).png().toFile(png);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** Files in a folder, temporaries included. */
  const files = (d: string) => readdirSync(d).sort();

  it('prints the help of every subcommand and its sub-forms, and does nothing else', () => {
    const forms: [string[], RegExp][] = [
      [['--help'], /^aic: neural media compression/],
      [['-h'], /^aic: neural media compression/],
      [['compress', '--help'], /^usage: aic compress /],
      [['compress', png, '-h'], /^usage: aic compress /],
      [['decompress', '--help'], /^usage: aic decompress /],
      [['decompress', '-h'], /^usage: aic decompress /],
      [['info', '--help'], /^usage: aic info /],
      [['info', 'image', '--help'], /^usage: aic info image/],
      [['info', 'audio', '-h'], /^usage: aic info audio/],
      [['eval', '--help'], /^usage: aic eval /],
      [['eval', 'image', '--help'], /^usage: aic eval image /],
      [['eval', 'audio', '-h'], /^usage: aic eval audio /],
      [['bench', '--help'], /^usage: aic bench /],
      [['bench', 'image', '--help'], /^usage: aic bench image /],
      [['bench', 'core', '--help'], /^usage: aic bench core /],
      [['bench', 'session', '-h'], /^usage: aic bench session /],
      [['help', 'compress'], /^usage: aic compress /],
      [['help', 'bench', 'core'], /^usage: aic bench core /],
    ];
    const before = files(dir);
    for (const [args, usage] of forms) {
      const r = aic(...args);
      expect(r.status, args.join(' ')).toBe(0);
      expect(r.stdout, args.join(' ')).toMatch(usage);
      expect(r.stderr, args.join(' ')).toBe('');
    }
    // Nothing was written: not even `compress photo.png -h` made a container.
    expect(files(dir)).toEqual(before);
  });

  it('gives usage mistakes exit 2 and bad input exit 1, with their own codes and the file named', () => {
    const text = path.join(dir, 'text.png');
    writeFileSync(text, 'this is not a picture\n');
    const empty = path.join(dir, 'empty.wav');
    writeFileSync(empty, '');
    const folder = path.join(dir, 'folder.png');
    mkdirSync(folder, { recursive: true });
    const truncated = path.join(dir, 'truncated.png');
    writeFileSync(truncated, readFileSync(png).subarray(0, 300));
    const jpegNamedPng = path.join(dir, 'really-a-jpeg.png');
    writeFileSync(jpegNamedPng, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 74, 70, 73, 70, 0]));
    const notJson = path.join(dir, 'manifest.json');
    writeFileSync(notJson, '{ not json');
    const notManifest = path.join(dir, 'other.json');
    writeFileSync(notManifest, '{"modality": "image"}');
    const cases: [string[], number, string, RegExp][] = [
      [['compress', png, '--frobnicate'], 2, 'UNKNOWN_OPTION', /--frobnicate/],
      [['compress'], 2, 'MISSING_ARGUMENT', /needs an input file/],
      [['compress', png, '-o'], 2, 'MISSING_ARGUMENT', /--output/],
      [['compress', png, png], 2, 'UNEXPECTED_ARGUMENT', /one input file/],
      [['compress', png, '--mode', 'fast'], 2, 'BAD_VALUE', /--mode/],
      [['compress', png, '--target', 'x'], 2, 'BAD_VALUE', /--target/],
      [['compress', png, '--ep', 'tpu'], 2, 'BAD_VALUE', /--ep/],
      [['compress', png, '--type', 'pdf'], 2, 'BAD_VALUE', /--type/],
      [['info', '--mode', 'aggressive'], 2, 'UNKNOWN_OPTION', /--mode/],
      [['frobnicate'], 2, 'UNKNOWN_COMMAND', /frobnicate/],
      [['bench', 'nope'], 2, 'BAD_VALUE', /nope/],
      [['compress', path.join(dir, 'missing.png')], 2, 'NOT_FOUND', /missing\.png: no such file/],
      [['compress', folder], 2, 'NOT_A_FILE', /folder\.png is a directory/],
      [['compress', empty], 1, 'EMPTY_INPUT', /empty\.wav is empty/],
      [['compress', text], 1, 'CONTENT_MISMATCH', /text\.png is named \.png but holds text/],
      [['compress', jpegNamedPng], 1, 'CONTENT_MISMATCH', /really-a-jpeg\.png .*JPEG image, not a PNG image/],
      [['compress', truncated], 1, 'CORRUPT_INPUT', /truncated\.png cannot be decoded/],
      [['compress', png, '-o', path.join(dir, 'no-such-folder', 'x.aic')], 1, 'UNWRITABLE_OUTPUT', /no-such-folder does not exist/],
      [['decompress', text], 1, 'CONTENT_MISMATCH', /text\.png is not an aic container/],
      [['info', notJson], 1, 'BAD_MANIFEST', /manifest\.json is not a model manifest: it is not JSON/],
      [['info', notManifest], 1, 'BAD_MANIFEST', /other\.json is not a valid model manifest/],
    ];
    for (const [args, status, code, message] of cases) {
      const r = aic(...args);
      const what = `aic ${args.join(' ')}: ${r.stderr}`;
      expect(r.status, what).toBe(status);
      expect(r.stderr, what).toContain(`(${code})`);
      expect(r.stderr, what).toMatch(message);
      expect(r.stderr, what).not.toMatch(/INTERNAL/);
    }
    // The file names its own content: --type says what it is.
    expect(aic('compress', text, '--type', 'data').status).toBe(0);
  });

  it('refuses an output folder it may not write to', () => {
    if (process.getuid?.() === 0) return; // root writes anywhere
    const locked = path.join(dir, 'locked');
    mkdirSync(locked, { mode: 0o500 });
    const r = aic('compress', png, '-o', path.join(locked, 'x.aic'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/UNWRITABLE_OUTPUT.*permission denied/);
  });

  it('leaves nothing behind when a run fails half way', () => {
    const sub = path.join(dir, 'half');
    mkdirSync(sub);
    // A Y4M clip whose third frame is cut short: two frames are coded before it fails.
    const W = 32;
    const H = 32;
    const frame = Buffer.alloc(W * H * 1.5, 100);
    const clip = path.join(sub, 'cut.y4m');
    writeFileSync(clip, Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F25:1 Ip C420jpeg\n`), Buffer.from('FRAME\n'), frame, Buffer.from('FRAME\n'), frame, Buffer.from('FRAME\n'), frame.subarray(0, 700)]));
    const c = aic('compress', clip);
    expect(c.status).toBe(1);
    expect(c.stderr).toMatch(/CORRUPT_INPUT.*cut\.y4m is truncated/);
    expect(files(sub)).toEqual(['cut.y4m']);
    // A container cut in the middle of a payload: decompress fails and writes no WAV.
    const wav = path.join(sub, 'tone.wav');
    writeWav(wav, { sampleRate: 16000, channels: [speechLike(16000, 0.5)], sampleFormat: 's16' });
    expect(aic('compress', wav).status).toBe(0);
    const whole = readFileSync(`${wav}.aic`);
    writeFileSync(`${wav}.aic`, whole.subarray(0, whole.length - 5));
    const d = aic('decompress', `${wav}.aic`, '-o', path.join(sub, 'back.wav'));
    expect(d.status).toBe(1);
    expect(d.stderr).toMatch(/tone\.wav\.aic is truncated/);
    expect(files(sub)).toEqual(['cut.y4m', 'tone.wav', 'tone.wav.aic']);
  });

  it('writes the format -o names, or refuses and says which it can write', async () => {
    const container = path.join(dir, 'photo.aic');
    expect(aic('compress', png, '-o', container).status).toBe(0);
    const jpg = path.join(dir, 'photo-out.jpg');
    expect(aic('decompress', container, '-o', jpg).status).toBe(0);
    expect([...readFileSync(jpg).subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect((await sharp(jpg).metadata()).format).toBe('jpeg');
    const webp = path.join(dir, 'photo-out.webp');
    expect(aic('decompress', container, '-o', webp).status).toBe(0);
    expect(readFileSync(webp).toString('latin1', 8, 12)).toBe('WEBP');
    const pngOut = path.join(dir, 'photo-out.png');
    expect(aic('decompress', container, '-o', pngOut).status).toBe(0);
    expect(readFileSync(pngOut).subarray(1, 4).toString()).toBe('PNG');
    const bmp = aic('decompress', container, '-o', path.join(dir, 'photo-out.bmp'));
    expect(bmp.status).toBe(2);
    expect(bmp.stderr).toMatch(/UNSUPPORTED_OUTPUT.*\.bmp.*\.png, \.jpg, \.jpeg, \.webp/);
    const wavOfImage = aic('decompress', container, '-o', path.join(dir, 'photo-out.wav'));
    expect(wavOfImage.status).toBe(2);
    const aicAsJpg = aic('compress', png, '-o', path.join(dir, 'x.jpg'));
    expect(aicAsJpg.status).toBe(2);
    expect(aicAsJpg.stderr).toMatch(/UNSUPPORTED_OUTPUT.*\.aic/);
    expect(files(dir).filter((f) => f.startsWith('photo-out.') || f === 'x.jpg' || f.endsWith('.part'))).toEqual(['photo-out.jpg', 'photo-out.png', 'photo-out.webp']);
  });

  it('shows the providers built into ONNX Runtime apart from those that load, and the whole fallback reason', () => {
    const r = aic('info');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^providers built into ONNX Runtime: .*CPUExecutionProvider/m);
    expect(r.stdout).toMatch(/^providers that load \(the models run on\): CPUExecutionProvider/m);
    const j = JSON.parse(aic('info', '--json').stdout) as { providers: { builtIn: string[]; loaded: string[] }; providerFallbackReason: string | null };
    expect(j.providers.loaded).toContain('CPUExecutionProvider');
    for (const p of j.providers.loaded) expect(j.providers.builtIn).toContain(p);
    if (j.providerFallbackReason) {
      for (const line of j.providerFallbackReason.trimEnd().split('\n')) expect(r.stdout).toContain(line.trim());
    }
  });

  it('says once what it changed in the input, in the summary and in --json', () => {
    const rate = 22050;
    const x = speechLike(rate, 0.6);
    const wav = path.join(dir, 'surround.wav');
    writeWav(wav, { sampleRate: rate, channels: [x, x, x, x, x, x].map((c, i) => c.map((v) => v * (1 - i * 0.1))), sampleFormat: 's16' });
    const c = aic('compress', wav);
    expect(c.status, c.stderr).toBe(0);
    const notes = c.stdout.split('\n').filter((l) => l.startsWith('note: '));
    expect(notes.filter((l) => l.includes('6-channel input was downmixed to 2 channels'))).toHaveLength(1);
    expect(notes.filter((l) => /22050 Hz input was resampled to \d+ Hz/.test(l))).toHaveLength(1);
    expect(new Set(notes).size).toBe(notes.length);
    const j = JSON.parse(aic('compress', wav, '-o', path.join(dir, 'surround2.aic'), '--json').stdout) as { reductions: { kind: string; detail: string }[] };
    expect(j.reductions.map((r) => r.kind)).toEqual(expect.arrayContaining(['channels', 'resampled']));
    const keys = j.reductions.map((r) => `${r.kind}:${r.detail}`);
    expect(new Set(keys).size).toBe(keys.length);
    // It comes back as stereo at the input's rate.
    expect(aic('decompress', path.join(dir, 'surround2.aic')).status).toBe(0);
    const back = readFloatWav(path.join(dir, 'surround2.decoded.wav'));
    expect([back.rate, back.channels]).toEqual([rate, 2]);
  });

  it('draws progress on stderr only when asked for or on a terminal', async () => {
    // A large image takes well over a second to code: --progress draws a bar with an ETA.
    const W = 1600;
    const H = 1200;
    const big = path.join(dir, 'big.png');
    await sharp(syntheticFrame(W, H), { raw: { width: W, height: H, channels: 3 } }).png().toFile(big);
    const on = aic('compress', big, '--progress', '--json');
    expect(on.status, on.stderr).toBe(0);
    const off = aic('compress', big, '--no-progress', '--json', '-o', path.join(dir, 'big2.aic'));
    expect(off.status).toBe(0);
    expect(off.stderr).toBe('');
    // Only if the run outlasted the bar's one-second grace (not asserted: machines differ).
    const seconds = (JSON.parse(on.stdout) as { seconds: number }).seconds;
    if (seconds > 1.5) expect(on.stderr).toMatch(/compressing big\.png: coding \[[#.]+\] +\d+%.*ETA/);
    expect(aic('compress', big, '--progress', '--no-progress').status).toBe(2);
  }, 60_000);
});
