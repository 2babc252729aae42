// The release workflow (.github/workflows/release.yml) cannot run here (no GitHub runners): it is
// linted with actionlint (`npm run lint:workflows`), and checked against the package it releases:
// its build and smoke matrices name exactly the platform packages that package.json lists as
// optional dependencies, each on a runner of that platform, and the ONNX Runtime headers the CI
// fetches are those of the onnxruntime-node it ships.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const workflow = readFileSync(path.join(root, '.github', 'workflows', 'release.yml'), 'utf8');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  version: string;
  scripts: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

// `- { target: linux-x64, os: ubuntu-22.04 }` entries, in the build and the smoke matrix.
const entries = [...workflow.matchAll(/-\s*\{\s*target:\s*([\w-]+),\s*os:\s*([\w.-]+)\s*\}/g)].map((m) => ({ target: m[1] ?? '', os: m[2] ?? '' }));
const RUNNER_FAMILY: Record<string, RegExp> = { linux: /^ubuntu-/, darwin: /^macos-/, win32: /^windows-/ };
// GitHub-hosted runners that are arm64: the -arm Linux images, and macOS 14 and later.
const ARM_RUNNER = /^ubuntu-[\d.]+-arm$|^macos-(1[4-9]|[2-9]\d)$/;

describe('release workflow', () => {
  it('passes actionlint', { timeout: 180_000 }, (ctx) => {
    expect(pkg.scripts['lint:workflows']).toBeDefined();
    const run = spawnSync('npm', ['run', 'lint:workflows'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 150_000,
      shell: process.platform === 'win32',
    });
    const output = `${run.stdout ?? ''}${run.stderr ?? ''}`;
    // The linter announces the files it checks; without that line it never ran (npx could not
    // fetch it: offline, no npm cache).
    if (!/Checking \d+ workflow file/.test(output)) {
      ctx.skip(`actionlint could not be run (npm run lint:workflows: ${run.error?.message ?? `exit ${run.status}`}): ${output.trim().split('\n').slice(-3).join(' | ')}`);
    }
    expect(output).toMatch(/Checking 1 workflow file/);
    expect(run.status, output).toBe(0);
  });

  it('builds and smoke-tests exactly the platform packages of package.json, each on its own kind of runner', () => {
    const optional = Object.keys(pkg.optionalDependencies ?? {});
    expect(optional.sort()).toEqual(['@auralink/aic-darwin-arm64', '@auralink/aic-linux-arm64', '@auralink/aic-linux-x64', '@auralink/aic-win32-x64']);
    for (const version of Object.values(pkg.optionalDependencies ?? {})) expect(version).toBe(pkg.version);

    const targets = [...new Set(entries.map((e) => e.target))].sort();
    expect(targets).toEqual(['darwin-arm64', 'linux-arm64', 'linux-x64', 'win32-x64']);
    for (const target of targets) {
      expect(optional, `${target} is not an optional dependency`).toContain(`@auralink/aic-${target}`);
      const runners = entries.filter((e) => e.target === target).map((e) => e.os);
      expect(runners, `${target} is not in both the build and the smoke matrix`).toHaveLength(2);
      const [platform = '', arch] = target.split('-');
      for (const os of runners) {
        expect(os, `${target} on ${os}`).toMatch(RUNNER_FAMILY[platform] ?? /^$/);
        expect(ARM_RUNNER.test(os), `${target} on ${os}`).toBe(arch === 'arm64');
      }
    }
  });

  it('publishes with provenance on a v* tag, platform packages before the main package', () => {
    expect(workflow).toMatch(/tags:\s*\['v\*'\]/);
    expect(workflow).toMatch(/id-token:\s*write/);
    expect(workflow).toMatch(/registry-url:\s*https:\/\/registry\.npmjs\.org/);
    expect(workflow).toMatch(/NODE_AUTH_TOKEN:\s*\$\{\{\s*secrets\.NPM_TOKEN\s*\}\}/);
    expect(workflow).toMatch(/npm publish "\$1" --provenance --access public/);
    expect(workflow.indexOf('for tarball in packages/platform/*.tgz; do publish')).toBeLessThan(workflow.indexOf('for tarball in packages/main/*.tgz; do publish'));
  });

  it('fetches the ONNX Runtime headers of the onnxruntime-node it ships', () => {
    const script = readFileSync(path.join(root, 'scripts', 'ci-native-deps.sh'), 'utf8');
    const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    expect(script).toContain(`ort_version="${lock.packages['node_modules/onnxruntime-node']?.version}"`);
  });
});
