// A client in another language that the project did not write: Python's grpcio (Debian's
// python3-grpcio and python3-grpc-tools) with stubs generated from proto/ alone, against the
// running service. CI installs both; elsewhere the test is skipped without them.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningService } from '../src/service.js';
import { signToken, startTestService } from './helpers/service.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const SECRET = 'python-test-secret-long-enough-for-hs256';
const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'aic-py-'));
let havePython = false;
let service: RunningService;

beforeAll(async () => {
  havePython = await run(PYTHON, ['-c', 'import grpc, grpc_tools']).then(() => true, () => false);
  if (!havePython) return;
  service = await startTestService({ secret: SECRET });
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a Python gRPC client built from the .proto alone', () => {
  it('health, a real frame, its decode, a stream, a bad request and a missing token', async (ctx) => {
    if (!havePython) {
      if (process.env.AIC_REQUIRE_PYTHON_GRPC === '1') throw new Error('python3-grpcio / python3-grpc-tools are not installed');
      ctx.skip();
    }
    const token = await signToken(SECRET, 'py-user');
    const { stdout } = await run(PYTHON, [path.join(__dirname, 'python', 'aic_client.py'), path.join(root, 'proto'), `127.0.0.1:${service.grpcPort}`, token, dir], { timeout: 120_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(out.health).toMatchObject({ status: 'healthy' });
    expect(out.compress.sequence).toBe(42);
    expect(out.compress.original).toBe(96 * 64 * 3);
    expect(out.compress.payload).toBe(out.compress.compressed);
    expect(out.compress.ratio).toBeGreaterThan(0.5);
    expect(['COMPRESSION_STATUS_SUCCESS', 'COMPRESSION_STATUS_FALLBACK']).toContain(out.compress.status);
    expect(out.decompress).toEqual({ type: 'FRAME_TYPE_VIDEO', width: 96, height: 64, bytes: 96 * 64 * 3 });
    expect(out.stream).toEqual([0, 1, 2, 3, 4]);
    expect(out.bad.code).toBe('INVALID_ARGUMENT');
    expect(out.bad.details).toMatch(/INVALID_ARGUMENT/);
    expect(out.noauth).toBe('UNAUTHENTICATED');
  }, 180_000);
});
