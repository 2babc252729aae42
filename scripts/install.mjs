// Run by the `prepare` script: npm runs it in this checkout (`npm install`, `npm ci`) and for a git
// dependency, never when a project installs the published package from the registry, so a
// consumer's install runs no script of ours at all (and the package declares no install script
// for npm to warn about). The package carries prebuilt binaries in prebuilds/ that node-gyp-build
// loads; here it builds from source only when no loadable binary is there already.
import { execSync } from 'node:child_process';
import { lstatSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);

function loadable() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

if (process.env.AIC_FORCE_BUILD !== '1' && loadable()) {
  console.log('@auralink/aic: native addon present, nothing to build');
} else {
  console.log('@auralink/aic: building the native addon from source');
  execSync('npm run build:native', { cwd: root, stdio: 'inherit' });
}

// In this checkout (not as someone's dependency), make `npx aic` find the package's own command,
// as it does for a project that depends on the package.
if (!root.split(path.sep).includes('node_modules')) {
  const binDir = path.join(root, 'node_modules', '.bin');
  const link = path.join(binDir, 'aic');
  try {
    mkdirSync(binDir, { recursive: true });
    try {
      lstatSync(link);
      unlinkSync(link);
    } catch {
      // not there yet
    }
    symlinkSync(path.relative(binDir, path.join(root, 'bin', 'aic.js')), link);
  } catch (error) {
    console.log(`@auralink/aic: could not link node_modules/.bin/aic (${error.message}); run the CLI as node bin/aic.js`);
  }
}
