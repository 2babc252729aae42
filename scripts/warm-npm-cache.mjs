// Puts into the npm cache what installing the packed package needs, so that the install test
// (scripts/install-test.sh) can then install it with --offline: the package's runtime dependencies
// from package-lock.json, each with its registry metadata, and its tarball when it can install on
// this platform (an optional dependency for another os or cpu needs only the metadata).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
const fits = (list, value) => !list || list.some((v) => v === value) || (list.every((v) => v.startsWith('!')) && !list.includes(`!${value}`));
const tarballs = [];
const metadataOnly = [];
for (const [key, entry] of Object.entries(lock.packages)) {
  if (!key.startsWith('node_modules/') || entry.dev || entry.link) continue;
  const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
  const spec = `${name}@${entry.version}`;
  if (fits(entry.os, process.platform) && fits(entry.cpu, process.arch)) tarballs.push(spec);
  else metadataOnly.push(spec);
}
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
execFileSync(npm, ['cache', 'add', ...tarballs], { stdio: 'inherit' });
for (const spec of metadataOnly) execFileSync(npm, ['view', spec, 'version'], { stdio: 'ignore' });
console.log(`warm-npm-cache: ${tarballs.length} packages, ${metadataOnly.length} more for other platforms (metadata only)`);
