// The video evaluation harness (bench/eval-video.mjs) end to end on a tiny clip it is given: 3
// frames at 96x64 with --quick. Every codec must come back with finite rates, qualities and
// times, and the loss and keyframe sections must be there. The clip is made here by ffmpeg's test
// source (tests never read ../shared/data); without ffmpeg the test is skipped, or fails when
// AIC_REQUIRE_FFMPEG=1.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const haveFfmpeg = ['ffmpeg', 'ffprobe'].every((t) => spawnSync(t, ['-hide_banner', '-version']).status === 0);
const encoders = haveFfmpeg ? spawnSync('ffmpeg', ['-hide_banner', '-encoders'], { encoding: 'utf8' }).stdout : '';
const haveCodecs = /libx264/.test(encoders) && /libvpx /.test(encoders);
const required = process.env.AIC_REQUIRE_FFMPEG === '1';
const skip = !(haveFfmpeg && haveCodecs) && !required;
if (skip) console.warn('eval-video.test: skipped, ffmpeg with libx264 and libvpx is not installed (Debian: apt-get install ffmpeg)');

const CODECS = ['aic-intra', 'aic-session', 'x264', 'x264-intra', 'x264-nokey', 'x264-keyint10', 'x264-keyint30', 'vp8'];

interface Point {
  setting: string;
  kbps: number;
  bpp: number;
  psnrY: number;
  psnrRgb: number;
  ssim: number;
  ssimDb: number;
  encodeMsPerFrame: number;
  decodeMsPerFrame: number;
  keyframes: number;
}
interface Run {
  clip: string;
  width: number;
  height: number;
  frames: number;
  codecs: Record<string, Point[]>;
  yuv420pRoundTrip: { psnrY: number; psnrRgb: number; ssim: number };
  bdRate: Record<string, Record<string, number | null>>;
  loss: { summary: { codec: string; lossPercent: number; frozenFraction: number; psnrY: number; ssim: number; extraKbps: number }[] };
  keyframes: { requested: unknown[]; periodic: unknown[] };
}

describe.skipIf(skip)('eval-video harness (--quick, 3 frames of a made-up clip at 96x64)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'aic-eval-video-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('codes the clip with every codec and writes finite numbers', () => {
    const clips = path.join(dir, 'clips');
    mkdirSync(clips);
    const made = spawnSync('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=30', '-frames:v', '8', '-c:v', 'mpeg4', '-q:v', '3', '-y', path.join(clips, 'tiny.mp4')], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const json = path.join(dir, 'out.json');
    const plot = path.join(dir, 'plots', 'rd.svg');
    const r = spawnSync(process.execPath, [path.join(root, 'bench', 'eval-video.mjs'), '--clips', clips, '--frames', '3', '--sizes', '96x64', '--quick', '--json', json, '--plot', plot], { cwd: root, encoding: 'utf8', timeout: 170_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);

    const out = JSON.parse(readFileSync(json, 'utf8')) as { runs: Run[]; summary: { size: string; msPerFrame: Record<string, { encodeMsPerFrame: number; decodeMsPerFrame: number }> }[] };
    expect(out.runs).toHaveLength(1);
    const run = out.runs[0]!;
    expect([run.clip, run.width, run.height, run.frames]).toEqual(['tiny.mp4', 96, 64, 3]);
    for (const name of CODECS) {
      const pts = run.codecs[name];
      expect(pts?.length, name).toBeGreaterThanOrEqual(1);
      for (const p of pts!) {
        for (const key of ['kbps', 'bpp', 'psnrY', 'psnrRgb', 'ssim', 'ssimDb', 'encodeMsPerFrame', 'decodeMsPerFrame'] as const) {
          expect(Number.isFinite(p[key]), `${name} ${p.setting} ${key} = ${p[key]}`).toBe(true);
        }
        expect(p.kbps).toBeGreaterThan(0);
        expect(p.psnrY).toBeGreaterThan(10);
        expect(p.ssim).toBeGreaterThan(0);
        expect(p.ssim).toBeLessThanOrEqual(1);
        expect(p.encodeMsPerFrame).toBeGreaterThanOrEqual(0);
      }
    }
    // Ours codes every frame intra; x264 with keyint=1 too; plain x264 only its first frame.
    expect(run.codecs['aic-intra']!.every((p) => p.keyframes === 3)).toBe(true);
    expect(run.codecs['x264-intra']!.every((p) => p.keyframes === 3)).toBe(true);
    expect(run.codecs.x264!.every((p) => p.keyframes === 1)).toBe(true);
    // Higher levels and lower CRFs cost more bits.
    const rates = (name: string) => run.codecs[name]!.map((p) => p.kbps);
    expect(rates('aic-intra')).toEqual([...rates('aic-intra')].sort((a, b) => a - b));
    expect(rates('x264')).toEqual([...rates('x264')].sort((a, b) => b - a));
    for (const v of Object.values(run.yuv420pRoundTrip)) expect(Number.isFinite(v)).toBe(true);
    for (const pairs of Object.values(run.bdRate)) for (const v of Object.values(pairs)) expect(v === null || Number.isFinite(v)).toBe(true);
    expect(run.loss.summary.length).toBeGreaterThan(0);
    for (const l of run.loss.summary) for (const v of [l.frozenFraction, l.psnrY, l.ssim, l.extraKbps]) expect(Number.isFinite(v)).toBe(true);
    // A lost payload of ours freezes that frame alone.
    expect(run.loss.summary.filter((l) => l.codec === 'aic-intra').every((l) => Math.abs(l.frozenFraction - 1 / 3) < 1e-9)).toBe(true);
    expect(out.summary[0]!.size).toBe('96x64');
    expect(readdirSync(path.join(dir, 'plots'))).toEqual(['rd-tiny-96x64.svg']);
    expect(readFileSync(path.join(dir, 'plots', 'rd-tiny-96x64.svg'), 'utf8')).toMatch(/^<svg[^]*x264[^]*<\/svg>\s*$/);
  }, 180_000);
});
