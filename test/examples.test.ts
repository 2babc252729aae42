// The examples run as their one command says, and do what they print.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWav } from '../src/cli/wav.js';
import { speechLike, syntheticFrame } from './media.js';

const examples = path.resolve(__dirname, '..', 'examples');
const run = (script: string, ...args: string[]) => spawnSync(process.execPath, [path.join(examples, script), ...args], { encoding: 'utf8', timeout: 120_000 });

describe('examples', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'aic-examples-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('relay-server --demo relays frames between two clients over HTTP and adapts to the link', () => {
    const r = run('relay-server.mjs', '--demo');
    expect(r.status, r.stderr).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^\s+\d+\s+\d+\s+(adaptive|aggressive|conservative)/.test(l));
    expect(rows).toHaveLength(12);
    // What the receiver decoded is exactly what the relay measured.
    for (const row of rows) {
      const cols = row.trim().split(/\s+/);
      expect(cols.at(-1)).toBe(cols.at(-2));
    }
    expect(rows.at(-1)).toMatch(/aggressive/);
    expect(r.stdout).toMatch(/1 mode change/);
    expect(r.stdout).toMatch(/a malformed frame: HTTP 400 .*INVALID_ARGUMENT/);
  });

  it('audio-loop codes a WAV as a live stream through changing network conditions', () => {
    const rate = 16000;
    const file = path.join(dir, 'speech.wav');
    writeWav(file, { sampleRate: rate, channels: [speechLike(rate, 3)], sampleFormat: 's16' });
    const r = run('audio-loop.mjs', file, '--out', path.join(dir, 'played.wav'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/sent 150 frames/);
    expect(r.stdout).toMatch(/\s400\s+8\s+aggressive/);
    expect(r.stdout).toMatch(/mode changes [1-9]/);
    const score = Number(/score (\d\.\d+), SI-SNR/.exec(r.stdout)?.[1]);
    expect(score).toBeGreaterThan(0.5);
  });

  it('compress-image compresses an image at every level beside JPEG', async () => {
    const png = path.join(dir, 'photo.png');
    await sharp(syntheticFrame(160, 112), { raw: { width: 160, height: 112, channels: 3 } }).png().toFile(png);
    const r = run('compress-image.mjs', png);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/photo\.png: 160x112/);
    expect(r.stdout).toMatch(/JPEG/);
  });
});
