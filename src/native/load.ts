// Loads the native addon once. Where it comes from, in order:
//   1. this package's own folder, through node-gyp-build: build/Release after a source build
//      (`npm run build:native`, what this checkout and platforms without a prebuild use), or a
//      prebuilds/<platform>-<arch>/ laid out inside the package;
//   2. the platform package @auralink/aic-<os>-<arch> (src/native/platform.ts), an optional
//      dependency of the published package holding prebuilds/<platform>-<arch>/ with the addon and
//      the shared libraries beside it.
// Then the ONNX Runtime library is picked and loaded (src/native/onnxruntime.ts).
// When neither fits, the error names the platform, the package that was looked for, and what to do.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { NativeBinding } from '../../bindings.js';
import { AicError } from '../errors.js';
import { selectOnnxRuntime } from './onnxruntime.js';
import { currentPlatform, platformPackageName, PREBUILT_PLATFORMS } from './platform.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as ((dir: string) => unknown) & { resolve(dir: string): string };

/** The package root: two levels above src/native/ (tests) or dist/native/ (the built package). */
export const packageRoot = path.resolve(__dirname, '..', '..');

/** Where the loaded addon came from (engine.info().native). */
export interface NativeOrigin {
  /** The addon file that was loaded. */
  readonly path: string;
  /** 'source-build' (build/Release), 'package' (prebuilds/ inside this package) or the platform package's name. */
  readonly source: string;
}

let binding: NativeBinding | undefined;
let origin: NativeOrigin | undefined;

function packageVersion(dir: string): string {
  return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The folder of the platform package for this machine, or why there is none. */
function platformPackageDir(): { dir?: string; why?: string; name?: string } {
  const { id, prebuilt } = currentPlatform();
  if (!prebuilt) {
    const musl = id.endsWith('-musl') ? ' ONNX Runtime publishes no musl build, so there is none for Alpine and other musl systems.' : '';
    return {
      why:
        `no prebuilt binary exists for ${id} (prebuilt: ${PREBUILT_PLATFORMS.map((p) => p.id).join(', ')}).${musl} ` +
        'Build from source in the package folder with `npm run build:native` (needs cmake, a C++17 compiler and an ONNX Runtime release folder in ONNXRUNTIME_DIR).',
    };
  }
  const name = platformPackageName(prebuilt.id);
  let dir: string;
  try {
    dir = path.dirname(require.resolve(`${name}/package.json`, { paths: [packageRoot] }));
  } catch {
    return {
      name,
      why:
        `the platform package ${name} is not installed. npm installs it as an optional dependency of @auralink/aic; ` +
        `it is missing after an install with --omit=optional or --no-optional, or from a lockfile made on another platform. ` +
        `Install it with \`npm install ${name}@${packageVersion(packageRoot)}\`.`,
    };
  }
  const mine = packageVersion(packageRoot);
  const theirs = packageVersion(dir);
  if (mine !== theirs) {
    return { name, why: `${name} is version ${theirs} but @auralink/aic is ${mine}; install the same version of both (\`npm install ${name}@${mine}\`).` };
  }
  return { dir, name };
}

function load(): { binding: NativeBinding; origin: NativeOrigin } {
  let ownError: Error | undefined;
  try {
    const file = nodeGypBuild.resolve(packageRoot);
    const source = file.startsWith(path.join(packageRoot, 'build') + path.sep) ? 'source-build' : 'package';
    return { binding: nodeGypBuild(packageRoot) as NativeBinding, origin: { path: file, source } };
  } catch (error) {
    ownError = error as Error;
  }
  const found = platformPackageDir();
  if (!found.dir) {
    throw new AicError('NATIVE_UNAVAILABLE', `the @auralink/aic native addon could not be loaded for ${currentPlatform().id}: ${found.why}`, { cause: ownError });
  }
  try {
    const file = nodeGypBuild.resolve(found.dir);
    return { binding: nodeGypBuild(found.dir) as NativeBinding, origin: { path: file, source: found.name! } };
  } catch (error) {
    throw new AicError(
      'NATIVE_UNAVAILABLE',
      `the @auralink/aic native addon in ${found.name} could not be loaded for ${currentPlatform().id} (${(error as Error).message}). ` +
        `Reinstall ${found.name}, or build from source in the @auralink/aic folder with \`npm run build:native\`.`,
      { cause: error },
    );
  }
}

export function native(): NativeBinding {
  if (binding) return binding;
  const loaded = load();
  // Before any engine starts: which ONNX Runtime the process runs on (src/native/onnxruntime.ts).
  selectOnnxRuntime(loaded.binding, loaded.origin.path, packageRoot);
  binding = loaded.binding;
  origin = loaded.origin;
  startWarmup(binding);
  return binding;
}

/**
 * ONNX Runtime's one-time work in a process (every operator schema, the CPU kernel registry:
 * about 17 ms here) starts on a native thread as soon as the library is chosen, so that it runs
 * while the program goes on loading and the first createEngine() finds it done
 * (native/core/runtime/warmup.h). The thread must be finished before the process exits, since
 * ONNX Runtime's static objects are destroyed then: 'exit' waits for it (at most the ~17 ms).
 */
function startWarmup(b: NativeBinding): void {
  if (typeof b.startWarmup !== 'function') return;
  b.startWarmup();
  process.once('exit', () => b.awaitWarmup());
}

/**
 * Loads the addon (and so starts ONNX Runtime's warm-up) if it can, without throwing: what the
 * package does when it is first required. A failure is met again, with its message, by the first
 * call that needs the addon.
 */
export function preloadNative(): void {
  try {
    native();
  } catch {
    // createEngine() and the other calls report it.
  }
}

/** Where the addon was loaded from; loads it if it is not yet. */
export function nativeOrigin(): NativeOrigin {
  native();
  return origin!;
}
