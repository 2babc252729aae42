// Which ONNX Runtime the process runs on, and where CUDA's provider libraries are looked for
// (issue 14, part 5; src/native/onnxruntime.ts). Each case runs in a process of its own: the
// library is chosen once per process. There is no GPU here, so "found" is shown by ONNX Runtime
// trying the provider files in the folder we chose and the CPU fallback naming that folder. Runs
// the built package (dist/, made by npm test's pretest build).
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const release = path.join(root, 'build', 'Release');
const work = mkdtempSync(path.join(tmpdir(), 'aic-ort-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Probe {
  ok: boolean;
  code?: string;
  message?: string;
  onnxRuntime?: { library: string; source: string; cudaProviders: string | null; searched: string[] };
  provider?: string;
  reason?: string | null;
}

function probe(env: Record<string, string | undefined>, executionProvider = 'auto', cwd = root): Probe {
  const script = `
    const { createEngine } = require(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
    createEngine({ executionProvider: ${JSON.stringify(executionProvider)} }).then(async (e) => {
      const i = e.info();
      console.log(JSON.stringify({ ok: true, onnxRuntime: i.onnxRuntime, provider: i.models[0].encoder.provider, reason: i.providerFallbackReason }));
      await e.close();
    }, (e) => console.log(JSON.stringify({ ok: false, code: e.code, message: e.message })));`;
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, ...env }, cwd });
  return JSON.parse(out.trim().split('\n').pop()!) as Probe;
}

describe('ONNX Runtime lookup', () => {
  it('uses the bundled copy by default and says where CUDA providers were looked for', () => {
    const p = probe({ AIC_ONNXRUNTIME_DIR: undefined });
    expect(p.ok).toBe(true);
    expect(p.onnxRuntime!.source).toBe('bundled');
    expect(p.onnxRuntime!.library).toBe(path.join(release, 'libonnxruntime.so.1'));
    expect(p.onnxRuntime!.cudaProviders).toBeNull();
    expect(p.provider).toBe('CPUExecutionProvider');
    expect(p.reason).toContain('no CUDA provider libraries were found');
    expect(p.reason).toContain(release);
  });

  it("asks nothing of CUDA with executionProvider 'cpu'", () => {
    const p = probe({ AIC_ONNXRUNTIME_DIR: undefined }, 'cpu');
    expect(p.ok).toBe(true);
    expect(p.reason).toBeNull();
  });

  it('runs on the ONNX Runtime of AIC_ONNXRUNTIME_DIR and makes it load the CUDA providers from there', () => {
    // An ONNX Runtime release folder: lib/ with the library and the provider files. The provider
    // files here are real shared objects that are not providers, so ONNX Runtime opens them, finds
    // no provider in them, and the engine falls back to CPU naming this folder.
    const dir = path.join(work, 'ort-gpu');
    mkdirSync(path.join(dir, 'lib'), { recursive: true });
    copyFileSync(path.join(release, 'libonnxruntime.so.1'), path.join(dir, 'lib', 'libonnxruntime.so.1'));
    for (const f of ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) copyFileSync(path.join(release, 'libopus.so.0'), path.join(dir, 'lib', f));
    const p = probe({ AIC_ONNXRUNTIME_DIR: dir });
    expect(p.ok).toBe(true);
    expect(p.onnxRuntime!.source).toBe('AIC_ONNXRUNTIME_DIR');
    expect(p.onnxRuntime!.library).toBe(path.join(dir, 'lib', 'libonnxruntime.so.1'));
    expect(p.onnxRuntime!.cudaProviders).toBe(path.join(dir, 'lib'));
    expect(p.provider).toBe('CPUExecutionProvider');
    expect(p.reason).toContain(path.join(dir, 'lib', 'libonnxruntime_providers_'));
    expect(p.reason).not.toContain('no CUDA provider libraries were found');
  });

  it("uses onnxruntime-node's folder when its CUDA download put the provider libraries there", () => {
    // The application's own onnxruntime-node (resolved from its working directory), laid out as
    // that package's optional CUDA download leaves it.
    const app = path.join(work, 'app');
    const bin = path.join(app, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch);
    mkdirSync(bin, { recursive: true });
    writeFileSync(path.join(app, 'node_modules', 'onnxruntime-node', 'package.json'), '{ "name": "onnxruntime-node", "version": "1.30.0" }\n');
    copyFileSync(path.join(release, 'libonnxruntime.so.1'), path.join(bin, 'libonnxruntime.so.1'));
    for (const f of ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so']) copyFileSync(path.join(release, 'libopus.so.0'), path.join(bin, f));
    const p = probe({ AIC_ONNXRUNTIME_DIR: undefined }, 'auto', app);
    expect(p.ok).toBe(true);
    expect(p.onnxRuntime!.source).toBe('onnxruntime-node');
    expect(p.onnxRuntime!.library).toBe(path.join(bin, 'libonnxruntime.so.1'));
    expect(p.reason).toContain(path.join(bin, 'libonnxruntime_providers_'));
  });

  it('fails with NATIVE_UNAVAILABLE naming AIC_ONNXRUNTIME_DIR when it holds no ONNX Runtime', () => {
    const empty = path.join(work, 'empty');
    mkdirSync(empty, { recursive: true });
    const p = probe({ AIC_ONNXRUNTIME_DIR: empty });
    expect(p.ok).toBe(false);
    expect(p.code).toBe('NATIVE_UNAVAILABLE');
    expect(p.message).toContain('AIC_ONNXRUNTIME_DIR');
  });

  it('fails with NATIVE_UNAVAILABLE when the file there is no ONNX Runtime', () => {
    const bogus = path.join(work, 'bogus');
    mkdirSync(bogus, { recursive: true });
    copyFileSync(path.join(release, 'libopus.so.0'), path.join(bogus, 'libonnxruntime.so.1'));
    const p = probe({ AIC_ONNXRUNTIME_DIR: bogus });
    expect(p.ok).toBe(false);
    expect(p.code).toBe('NATIVE_UNAVAILABLE');
    expect(p.message).toMatch(/not an ONNX Runtime library/);
  });
});
