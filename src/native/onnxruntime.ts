// Which ONNX Runtime library this process runs on. The addon loads it by path at run time
// (native/core/runtime/onnxruntime_library.h) because ONNX Runtime finds its CUDA provider
// libraries only beside the libonnxruntime it was loaded from. So, once per process, before the
// first engine starts, this picks the first of:
//   1. the folder named by AIC_ONNXRUNTIME_DIR: an ONNX Runtime GPU release folder (its lib/) or
//      any folder holding libonnxruntime with the provider libraries beside it. Set explicitly, so
//      a folder without a loadable library there is an error, not a silent fallback;
//   2. the bundled copy beside the addon, when the CUDA provider libraries were put beside it;
//   3. onnxruntime-node's folder, when its optional CUDA download put the provider libraries there;
//   4. the bundled copy, CPU only.
// The CPU provider is the same in all of them; the choice only decides whether CUDA can load.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { NativeBinding } from '../../bindings.js';
import { AicError } from '../errors.js';

/** What engine.info().onnxRuntime reports. */
export interface OnnxRuntimeInfo {
  /** The libonnxruntime file in use. */
  readonly library: string;
  readonly version: string;
  /** Why this one: 'AIC_ONNXRUNTIME_DIR', 'bundled' or 'onnxruntime-node'. */
  readonly source: 'AIC_ONNXRUNTIME_DIR' | 'bundled' | 'onnxruntime-node';
  /** The folder holding the CUDA provider libraries beside that library, or null when there are none. */
  readonly cudaProviders: string | null;
  /** Each folder looked at, and what was found there. */
  readonly searched: readonly string[];
}

/** The CUDA provider files ONNX Runtime loads from its own folder, on this platform (none on macOS). */
export function cudaProviderFiles(platform: NodeJS.Platform = process.platform): string[] {
  if (platform === 'win32') return ['onnxruntime_providers_shared.dll', 'onnxruntime_providers_cuda.dll'];
  if (platform === 'linux') return ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
  return [];
}

interface Candidate {
  source: OnnxRuntimeInfo['source'];
  dir: string;
}

function describe(dir: string, libraryName: string): { hasLibrary: boolean; hasCuda: boolean; note: string } {
  const hasLibrary = existsSync(path.join(dir, libraryName));
  const files = cudaProviderFiles();
  const missing = files.filter((f) => !existsSync(path.join(dir, f)));
  const hasCuda = files.length > 0 && missing.length === 0;
  const note = `${dir}: ${hasLibrary ? libraryName : `no ${libraryName}`}, ${
    files.length === 0 ? 'no CUDA on this platform' : hasCuda ? 'CUDA provider libraries present' : `no ${missing.join(', ')}`
  }`;
  return { hasLibrary, hasCuda, note };
}

/** onnxruntime-node's library folder for this platform, if the package is installed where the app or this package can see it. */
function onnxruntimeNodeDir(packageRoot: string): string | undefined {
  for (const from of [process.cwd(), packageRoot]) {
    try {
      const pkg = path.dirname(require.resolve('onnxruntime-node/package.json', { paths: [from] }));
      for (const napi of ['napi-v6', 'napi-v3']) {
        const dir = path.join(pkg, 'bin', napi, process.platform, process.arch);
        if (existsSync(dir)) return dir;
      }
    } catch {
      // not installed from there
    }
  }
  return undefined;
}

let chosen: OnnxRuntimeInfo | undefined;

/**
 * Loads the ONNX Runtime this process will run on, by the order above. `addonFile` is the loaded
 * addon (the bundled libonnxruntime sits beside it). Runs once; later calls return the first result.
 */
export function selectOnnxRuntime(binding: NativeBinding, addonFile: string, packageRoot: string): OnnxRuntimeInfo {
  if (chosen) return chosen;
  const libraryName = binding.onnxRuntimeFileName;
  const bundled = path.dirname(addonFile);
  const searched: string[] = [];
  const already = binding.onnxRuntime();
  if (already) {
    // Something read binding.ortVersion before any engine started: the default (bundled) copy is in.
    const d = describe(path.dirname(already.path), libraryName);
    searched.push(`${d.note} (already loaded)`);
    return (chosen = { library: already.path, version: already.version, source: 'bundled', cudaProviders: d.hasCuda ? path.dirname(already.path) : null, searched });
  }
  const load = (c: Candidate, cuda: boolean): OnnxRuntimeInfo => {
    const file = path.join(c.dir, libraryName);
    const lib = binding.loadOnnxRuntime(file);
    return { library: lib.path, version: lib.version, source: c.source, cudaProviders: cuda ? c.dir : null, searched };
  };

  const fromEnv = process.env.AIC_ONNXRUNTIME_DIR;
  if (fromEnv) {
    const dirs = [path.join(fromEnv, 'lib'), fromEnv];
    const dir = dirs.find((d) => existsSync(path.join(d, libraryName)));
    if (!dir) {
      throw new AicError(
        'NATIVE_UNAVAILABLE',
        `AIC_ONNXRUNTIME_DIR=${fromEnv} holds no ${libraryName} (looked in ${dirs.join(' and ')}); point it at an ONNX Runtime release folder or unset it to use the bundled ONNX Runtime`,
      );
    }
    const d = describe(dir, libraryName);
    searched.push(d.note);
    try {
      chosen = load({ source: 'AIC_ONNXRUNTIME_DIR', dir }, d.hasCuda);
    } catch (error) {
      throw new AicError('NATIVE_UNAVAILABLE', `AIC_ONNXRUNTIME_DIR=${fromEnv}: ${(error as Error).message}`, { cause: error });
    }
    return chosen;
  }

  const own = describe(bundled, libraryName);
  searched.push(own.note);
  if (own.hasCuda) return (chosen = load({ source: 'bundled', dir: bundled }, true));

  const ortNode = onnxruntimeNodeDir(packageRoot);
  if (ortNode) {
    const d = describe(ortNode, libraryName);
    searched.push(d.note);
    if (d.hasLibrary && d.hasCuda) {
      try {
        return (chosen = load({ source: 'onnxruntime-node', dir: ortNode }, true));
      } catch (error) {
        // An older onnxruntime-node than our headers: its CUDA files are of no use; say why.
        searched.push(`${ortNode}: not used (${(error as Error).message})`);
      }
    }
  } else {
    searched.push('onnxruntime-node: not installed');
  }
  return (chosen = load({ source: 'bundled', dir: bundled }, false));
}

/** The choice made, if one was. */
export function onnxRuntimeInfo(): OnnxRuntimeInfo | undefined {
  return chosen;
}
