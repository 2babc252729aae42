// Loads the native addon once, from build/Release (a source build) or prebuilds/<platform>-<arch>
// (the binaries shipped in the npm package), through node-gyp-build.
import path from 'node:path';
import type { NativeBinding } from '../bindings.js';
import { AicError } from './errors.js';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;

let binding: NativeBinding | undefined;

/** The package root: one level above src/ (tests) or dist/ (the built package). */
export const packageRoot = path.resolve(__dirname, '..');

export function native(): NativeBinding {
  if (binding) return binding;
  try {
    binding = nodeGypBuild(packageRoot) as NativeBinding;
  } catch (error) {
    throw new AicError(
      'NATIVE_UNAVAILABLE',
      `the @auralink/aic native addon could not be loaded for ${process.platform}-${process.arch} (${(error as Error).message}). ` +
        'Reinstall the package, or build from source in its folder with `npm run build:native`.',
      { cause: error },
    );
  }
  return binding;
}
