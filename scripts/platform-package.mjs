// Stages the platform package for this machine, @auralink/aic-<os>-<arch>: the prebuilt addon and
// the shared libraries it links to (prebuilds/<platform>-<arch>/, laid out by
// scripts/layout-prebuild.mjs), with os/cpu/libc fields so that npm installs it only where it runs.
// The main package lists every platform package as an optional dependency of the same version.
//
//   node scripts/platform-package.mjs [--out DIR] [--pack]
//     --out DIR  where to write aic-<platform>-<arch>/ (default: build/platform-packages)
//     --pack     also run `npm pack` there; the tarball's path is the last line printed
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const { PREBUILT_PLATFORMS, currentPlatform, platformPackageName } = require(path.join(root, 'dist', 'native', 'platform.js'));

const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const outRoot = path.resolve(arg('--out') ?? path.join(root, 'build', 'platform-packages'));
const { id, prebuilt } = currentPlatform();
if (!prebuilt) {
  console.error(`platform-package: ${id} has no platform package (prebuilt: ${PREBUILT_PLATFORMS.map((p) => p.id).join(', ')})`);
  process.exit(1);
}
const prebuildDir = path.join(root, 'prebuilds', id);
if (!existsSync(prebuildDir) || !readdirSync(prebuildDir).some((f) => f.endsWith('.node'))) {
  console.error(`platform-package: ${prebuildDir} holds no addon; run npm run build:native && node scripts/layout-prebuild.mjs first`);
  process.exit(1);
}

const main = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const name = platformPackageName(id);
const dir = path.join(outRoot, `aic-${id}`);
rmSync(dir, { recursive: true, force: true });
mkdirSync(path.join(dir, 'prebuilds'), { recursive: true });
cpSync(prebuildDir, path.join(dir, 'prebuilds', id), { recursive: true });
copyFileSync(path.join(root, 'LICENSE'), path.join(dir, 'LICENSE'));
const manifest = {
  name,
  version: main.version,
  description: `The prebuilt native addon of @auralink/aic for ${id}, with the ONNX Runtime and libopus it links to`,
  license: main.license,
  os: [prebuilt.os],
  cpu: [prebuilt.cpu],
  ...(prebuilt.libc ? { libc: [prebuilt.libc] } : {}),
  engines: main.engines,
  files: ['prebuilds', 'LICENSE', 'README.md'],
  ...(main.repository ? { repository: main.repository } : {}),
  publishConfig: { access: 'public' },
};
writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
const files = readdirSync(path.join(dir, 'prebuilds', id));
writeFileSync(
  path.join(dir, 'README.md'),
  `# ${name}\n\nThe prebuilt native addon of [@auralink/aic](https://www.npmjs.com/package/@auralink/aic) for ${id}` +
    `${prebuilt.libc ? ` (${prebuilt.libc})` : ''}. Install @auralink/aic, not this package: npm picks the platform package that fits.\n\n` +
    `Contents of \`prebuilds/${id}/\`: ${files.map((f) => `\`${f}\``).join(', ')}.\n\n` +
    'libonnxruntime is ONNX Runtime (MIT License, Microsoft); libopus is Opus (BSD License, Xiph.Org and others).\n',
);
console.log(`platform-package: ${dir}: ${name}@${main.version} (${files.join(', ')})`);
if (process.argv.includes('--pack')) {
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', outRoot], { cwd: dir, encoding: 'utf8', shell: process.platform === 'win32' }).trim().split('\n').pop();
  console.log(path.join(outRoot, tarball));
}
