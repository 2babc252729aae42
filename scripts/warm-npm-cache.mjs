// Puts into the npm cache what installing the packed packages needs, so that the install test
// (scripts/install-test.sh) can then install them with --offline: the tarballs are installed once,
// from the registry, into a scratch folder with --ignore-scripts (nothing runs, nothing is built),
// which caches every package a consumer's npm resolves today, at the versions it resolves them to,
// with the metadata of the optional ones it skips on this platform. (Warming from package-lock.json
// instead cached the lock's versions; a consumer's install takes the newest in each range, so the
// offline install failed the day sharp published a patch release.)
//   node scripts/warm-npm-cache.mjs PACKAGE.tgz [PLATFORM.tgz ...]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const tarballs = process.argv.slice(2).map((t) => path.resolve(t));
if (tarballs.length === 0) throw new Error('usage: node scripts/warm-npm-cache.mjs PACKAGE.tgz [PLATFORM.tgz ...]');
const dir = mkdtempSync(path.join(tmpdir(), 'aic-warm-'));
try {
  writeFileSync(path.join(dir, 'package.json'), '{ "name": "aic-warm", "version": "1.0.0", "private": true }\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8'));
  const resolved = Object.keys(lock.packages).filter((key) => key !== '').length;
  console.log(`warm-npm-cache: ${resolved} packages resolved as a consumer's install resolves them today`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
