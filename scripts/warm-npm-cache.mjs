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
// The closure of the package's own runtime dependencies (not the workspaces' - service/ - nor dev
// ones), resolved the way Node does: from the dependent's folder up to the root node_modules.
const seen = new Set();
const visit = (fromKey, deps) => {
  for (const name of Object.keys(deps ?? {})) {
    let base = fromKey;
    let key;
    for (;;) {
      const candidate = `${base ? `${base}/` : ''}node_modules/${name}`;
      if (lock.packages[candidate]) { key = candidate; break; }
      if (!base) break;
      const cut = base.lastIndexOf('/node_modules/');
      base = cut < 0 ? '' : base.slice(0, cut);
    }
    if (!key || seen.has(key)) continue; // an optional dependency not in the lock (an unpublished platform package)
    seen.add(key);
    const entry = lock.packages[key];
    if (entry.link) continue;
    const spec = `${name}@${entry.version}`;
    if (fits(entry.os, process.platform) && fits(entry.cpu, process.arch)) tarballs.push(spec);
    else metadataOnly.push(spec);
    visit(key, { ...entry.dependencies, ...entry.optionalDependencies });
  }
};
visit('', { ...lock.packages[''].dependencies, ...lock.packages[''].optionalDependencies });
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
execFileSync(npm, ['cache', 'add', ...tarballs], { stdio: 'inherit' });
for (const spec of metadataOnly) execFileSync(npm, ['view', spec, 'version'], { stdio: 'ignore' });
console.log(`warm-npm-cache: ${tarballs.length} packages, ${metadataOnly.length} more for other platforms (metadata only)`);
