// Lays the built addon out as a prebuild that node-gyp-build loads with no compiler and no
// download: prebuilds/<platform>-<arch>/aic.napi.node beside the libonnxruntime it links to
// and libopus (found through RPATH $ORIGIN), stripped. `npm pack` runs this (prepack), so the published package
// carries the binary for the platform it was packed on.
//
//   node scripts/layout-prebuild.mjs [--out DIR]   (default: ./prebuilds)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const outIndex = process.argv.indexOf('--out');
const outRoot = outIndex > 0 ? path.resolve(process.argv[outIndex + 1]) : path.join(root, 'prebuilds');
const release = path.join(root, 'build', 'Release');
const addon = path.join(release, 'aic.node');
if (!existsSync(addon)) {
  console.error(`layout-prebuild: ${addon} is missing; run npm run build:native first`);
  process.exit(1);
}
const dir = path.join(outRoot, `${process.platform}-${process.arch}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
copyFileSync(addon, path.join(dir, 'aic.napi.node'));
// Stripped: the symbols a debugger wants stay in build/Release; the shipped addon needs none but
// its exported ones (strip --strip-unneeded on Linux, strip -x on macOS; MSVC keeps them in a .pdb).
if (process.platform === 'linux') execFileSync('strip', ['--strip-unneeded', path.join(dir, 'aic.napi.node')]);
else if (process.platform === 'darwin') execFileSync('strip', ['-x', path.join(dir, 'aic.napi.node')]);
for (const f of readdirSync(release)) {
  if (/^(lib)?(onnxruntime|opus).*\.(so(\.\d+)*|dylib|dll)$/.test(f)) copyFileSync(path.join(release, f), path.join(dir, f));
}
console.log(`layout-prebuild: ${dir}: ${readdirSync(dir).join(', ')}`);
