// The package's entry points as a consumer reaches them: by the package name, through the exports
// map (Node resolves a package's own name from inside it, as it does from a dependent's
// node_modules), from an ES module and from CommonJS, each round-tripping a video and an audio frame.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');
// The consumer the install test runs (scripts/install-test.sh), here from the package's own folder.
const consumer = readFileSync(path.join(__dirname, 'install', 'consumer-body.txt'), 'utf8').replace(': string | null', '');
const body = (imp: string) => `${imp}\n${consumer}`;

function run(file: string, source: string): { ok: boolean; video: string; audio: string; code: string } {
  // Inside the package's folder, so that its own name resolves through "exports".
  const dir = mkdtempSync(path.join(root, 'scratch-entry-'));
  const f = path.join(dir, file);
  writeFileSync(f, source);
  const r = spawnSync(process.execPath, [f], { cwd: dir, encoding: 'utf8' });
  spawnSync('rm', ['-rf', dir]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('package entry points', () => {
  // The consumer checks the frames' sizes itself (ok) and exits non-zero when they are off.
  const expected = { ok: true, video: 'neural-image', audio: 'neural-audio', code: 'CORRUPT_PAYLOAD' };
  it('an ES module imports the named API by the package name', () => {
    expect(run('consumer.mjs', body("import { createEngine, AicError } from '@auralink/aic';"))).toMatchObject(expected);
  }, 60_000);
  it('a CommonJS module requires it by the package name', () => {
    expect(run('consumer.cjs', `(async () => {\n${body("const { createEngine, AicError } = require('@auralink/aic');")}\n})().catch((e) => { console.error(e); process.exit(1); });`)).toMatchObject(expected);
  }, 60_000);
  it('exposes nothing but the entry and package.json', () => {
    const r = spawnSync(process.execPath, ['-e', "try { require.resolve('@auralink/aic/dist/engine.js'); console.log('resolved') } catch (e) { console.log(e.code) }"], { cwd: root, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
    const p = spawnSync(process.execPath, ['-p', "require('@auralink/aic/package.json').name"], { cwd: root, encoding: 'utf8' });
    expect(p.stdout.trim()).toBe('@auralink/aic');
  });
});
