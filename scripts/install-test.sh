#!/usr/bin/env bash
# The package as a consumer installs it (issue 14, part 6): `npm pack` of the main package and of
# this machine's platform package (scripts/platform-package.mjs), then both tarballs installed
# into an empty project from the local npm cache only (--offline: no network), with CC and CXX set
# to `false` so that nothing can be compiled; once with npm's defaults (scripts on) and once with
# --ignore-scripts. In each, an ES module, a CommonJS module and a strict TypeScript consumer
# create an engine and round-trip a video and an audio frame (test/install/consumer-body.txt).
# Then, with the platform package removed, an engine must fail with NATIVE_UNAVAILABLE naming the
# platform package. Also checks that onnxruntime-node (a dev dependency) is not installed, and prints the sizes.
# What the install needs is first put into the npm cache (scripts/warm-npm-cache.mjs: both tarballs
# installed once from the registry with --ignore-scripts, the one step that uses the network); the
# TypeScript consumer is compiled with this checkout's tsc and @types/node.
# Usage: npm run test:install
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/aic-install-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$root"
tarball="$(npm pack --silent --pack-destination "$work" | tail -1)"
echo "install-test: packed $tarball ($(du -h "$work/$tarball" | cut -f1) compressed)"
# The platform package for this machine (the addon and the libraries beside it), as the release
# workflow packs it.
node scripts/layout-prebuild.mjs > /dev/null
platform_tarball="$(node scripts/platform-package.mjs --out "$work/platform" --pack | tail -1)"
echo "install-test: packed $(basename "$platform_tarball") ($(du -h "$platform_tarball" | cut -f1) compressed)"
node scripts/warm-npm-cache.mjs "$work/$tarball" "$platform_tarball"
body="$(cat "$root/test/install/consumer-body.txt")"

for mode in scripts-on scripts-off; do
  dir="$work/$mode"
  mkdir -p "$dir"
  cd "$dir"
  printf '{ "name": "aic-consumer", "version": "1.0.0", "private": true }\n' > package.json
  flags=(--offline --no-audit --no-fund --loglevel=error)
  [ "$mode" = scripts-off ] && flags+=(--ignore-scripts)
  CC=false CXX=false npm install "${flags[@]}" "$work/$tarball" "$platform_tarball" > install.log 2>&1 || {
    cat install.log
    echo "install-test: npm install ($mode) failed" >&2
    exit 1
  }
  if [ -e node_modules/onnxruntime-node ]; then echo "install-test: onnxruntime-node was installed ($mode)" >&2; exit 1; fi
  if grep -qi "warn.*script" install.log; then cat install.log; echo "install-test: npm warned about install scripts ($mode)" >&2; exit 1; fi
  # ES module, CommonJS, strict TypeScript (node16 resolution: the exports map and the types).
  printf "import { createEngine, AicError } from '@auralink/aic';\n%s\n" "$body" | sed 's/: string | null//' > esm.mjs
  printf "const { createEngine, AicError } = require('@auralink/aic');\n(async () => {\n%s\n})().catch((e) => { console.error(e); process.exit(1); });\n" "$body" | sed 's/: string | null//' > cjs.cjs
  printf "import { createEngine, AicError } from '@auralink/aic';\n%s\n" "$body" > ts.mts
  printf '{ "compilerOptions": { "strict": true, "module": "node16", "moduleResolution": "node16", "target": "es2022", "types": ["node"], "typeRoots": ["'"$root"'/node_modules/@types"], "outDir": "out", "skipLibCheck": false }, "files": ["ts.mts"] }\n' > tsconfig.json
  "$root/node_modules/.bin/tsc" -p tsconfig.json
  for script in esm.mjs cjs.cjs out/ts.mjs; do
    printf 'install-test: %-11s %-12s ' "$mode" "$script"
    out="$(CC=false CXX=false node "$script")"
    echo "$out"
    # The addon must come from the platform package, not from anything left in the main one.
    case "$out" in *'"native":"@auralink/aic-'*) ;; *) echo "install-test: the addon was not loaded from the platform package ($mode $script)" >&2; exit 1 ;; esac
  done
  echo "install-test: $mode: node_modules $(du -sh node_modules | cut -f1), @auralink/aic $(du -sh node_modules/@auralink/aic | cut -f1)"
done
# Without the platform package (as after a lockfile made on another platform): a clear error that
# names it, not a crash.
cd "$work/scripts-off"
rm -rf node_modules/@auralink/aic-"$(node -p 'process.platform + "-" + process.arch')"
cat > missing.cjs <<'JS'
const { createEngine } = require('@auralink/aic');
createEngine().then(
  () => { console.error('install-test: an engine started without its platform package'); process.exit(1); },
  (e) => {
    const name = `@auralink/aic-${process.platform}-${process.arch}`;
    if (e.code !== 'NATIVE_UNAVAILABLE' || !e.message.includes(name)) { console.error(e); process.exit(1); }
    console.log(`install-test: without ${name}: ${e.code}: ${e.message}`);
  },
);
JS
node missing.cjs
echo "install-test: ok"
