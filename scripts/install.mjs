// `install` script. In a consumer's project npm 11 does not run it at all, and nothing is needed:
// the package carries prebuilt binaries in prebuilds/ that node-gyp-build loads. Where it does
// run (this checkout, CI, an older npm), it builds from source only when no loadable binary
// is there already, so that a consumer with prebuilds never needs a compiler.
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
