// The prebuild layout loads through node-gyp-build from prebuilds/ alone (no build/ folder),
// and finds libonnxruntime beside it: what a consumer's `npm install` gets.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

const root = path.resolve(__dirname, '..');

describe('prebuilds', () => {
  it('node-gyp-build loads the laid-out prebuild and it runs a model', () => {
    const pkg = mkdtempSync(path.join(tmpdir(), 'aic-prebuild-'));
    try {
      execFileSync(process.execPath, [path.join(root, 'scripts', 'layout-prebuild.mjs'), '--out', path.join(pkg, 'prebuilds')]);
      copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
      const script = `
        const b = require(${JSON.stringify(require.resolve('node-gyp-build'))})(${JSON.stringify(pkg)});
        const e = new b.Engine({ executionProvider: 'cpu' });
        const m = e.loadModelSync({ name: 't', encoder: ${JSON.stringify(fixture('u8_scaler.onnx'))}, decoder: ${JSON.stringify(fixture('u8_scaler.onnx'))} });
        const r = m.runSync('encoder', { pixels: { data: Buffer.from([255]), type: 'uint8', shape: [1] } });
        console.log(JSON.stringify({ path: require(${JSON.stringify(require.resolve('node-gyp-build'))}).resolve(${JSON.stringify(pkg)}), ort: b.ortVersion, v: r.scaled.data.readFloatLE(0) }));`;
      const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as { path: string; ort: string; v: number };
      expect(out.path).toContain(path.join(pkg, 'prebuilds'));
      expect(out.ort).toMatch(/^1\./);
      expect(out.v).toBe(1);
    } finally {
      rmSync(pkg, { recursive: true, force: true });
    }
  });
});
