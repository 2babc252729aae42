// The per-platform packages (issue 14, part 2): the main package names every prebuilt platform as
// an optional dependency of its own version, and the platform package staged for this machine
// carries the os/cpu/libc fields npm filters on and an addon that loads and runs from it alone.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { currentPlatform, platformPackageName, PREBUILT_PLATFORMS } from '../src/native/platform.js';

const root = path.resolve(__dirname, '..');
const main = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  files: string[];
  optionalDependencies: Record<string, string>;
};

describe('platform packages', () => {
  it('the main package lists every prebuilt platform, at its own version, and ships no binary itself', () => {
    expect(Object.keys(main.optionalDependencies).sort()).toEqual(PREBUILT_PLATFORMS.map((p) => platformPackageName(p.id)).sort());
    for (const version of Object.values(main.optionalDependencies)) expect(version).toBe(main.version);
    expect(main.files).not.toContain('prebuilds');
  });

  it('names this machine by os, arch and libc', () => {
    const { id, prebuilt } = currentPlatform();
    expect(id.startsWith(`${process.platform}-${process.arch}`)).toBe(true);
    if (process.platform === 'linux' && process.arch === 'x64') expect(prebuilt?.libc).toBe('glibc');
  });

  it('stages a platform package whose addon loads from it alone', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'aic-platform-'));
    try {
      execFileSync(process.execPath, [path.join(root, 'scripts', 'layout-prebuild.mjs')]);
      execFileSync(process.execPath, [path.join(root, 'scripts', 'platform-package.mjs'), '--out', out]);
      const { id, prebuilt } = currentPlatform();
      const dir = path.join(out, `aic-${id}`);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(manifest).toMatchObject({ name: platformPackageName(id), version: main.version, os: [prebuilt!.os], cpu: [prebuilt!.cpu] });
      if (prebuilt && 'libc' in prebuilt) expect(manifest.libc).toEqual([prebuilt.libc]);
      const files = readdirSync(path.join(dir, 'prebuilds', id));
      expect(files).toContain('aic.napi.node');
      expect(files.some((f) => /onnxruntime/.test(f))).toBe(true);
      expect(existsSync(path.join(dir, 'LICENSE'))).toBe(true);
      if (process.platform === 'linux') expect(execFileSync('file', [path.join(dir, 'prebuilds', id, 'aic.napi.node')], { encoding: 'utf8' })).toMatch(/, stripped/);
      // Loaded in a process of its own, from the staged folder only: the addon finds the libraries beside it.
      const gyp = require.resolve('node-gyp-build');
      const script = `const b = require(${JSON.stringify(gyp)})(${JSON.stringify(dir)});
        console.log(JSON.stringify({ file: require(${JSON.stringify(gyp)}).resolve(${JSON.stringify(dir)}), ort: b.ortVersion }));`;
      const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { file: string; ort: string };
      expect(loaded.file.startsWith(path.join(dir, 'prebuilds'))).toBe(true);
      expect(loaded.ort).toMatch(/^1\./);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
