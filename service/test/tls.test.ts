// TLS for gRPC and HTTP from certificate files, mutual TLS when asked for, and plaintext only when
// asked for. Certificates are made for the test with openssl (a CA, a server and a client cert).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@auralink/aic';
import { loadProto } from '../src/grpc/server.js';
import { startService, type RunningService } from '../src/service.js';

const dir = mkdtempSync(path.join(tmpdir(), 'aic-tls-'));
const file = (name: string) => path.join(dir, name);
let service: RunningService;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

beforeAll(async () => {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '1', '-subj', '/CN=aic test CA');
  writeFileSync(file('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file(`${who}.key`), '-out', file(`${who}.csr`), '-subj', `/CN=${who === 'server' ? 'localhost' : 'sfu'}`);
    openssl('x509', '-req', '-in', file(`${who}.csr`), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file(`${who}.crt`), '-days', '1', ...(who === 'server' ? ['-extfile', file('server.ext')] : []));
  }
  service = await startService({
    grpc: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    tls: { cert: file('server.crt'), key: file('server.key'), ca: file('ca.crt'), requireClientCert: true },
    auth: { disabled: true },
    prometheus: true,
    engine: { executionProvider: 'cpu' },
    defaults: loadConfig({}).session,
  });
});

afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

function health(client: any): Promise<{ status: string } | ServiceError> {
  return new Promise((resolve) => client.HealthCheck({}, new Metadata(), { deadline: Date.now() + 5000 }, (e: ServiceError | null, r: { status: string }) => resolve(e ?? r)));
}

function https(withClientCert: boolean): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port: service.httpPort, path: '/health/live', ca: readFileSync(file('ca.crt')), servername: 'localhost', ...(withClientCert ? { cert: readFileSync(file('client.crt')), key: readFileSync(file('client.key')) } : {}) },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (e) => resolve(e.message));
    req.end();
  });
}

describe('TLS', () => {
  const Service = () => (loadPackageDefinition(loadProto()) as any).auralink.aic.v1.AICCompressionService;

  it('serves gRPC over mutual TLS to a client with a certificate of the CA', async () => {
    const c = new (Service())(`127.0.0.1:${service.grpcPort}`, credentials.createSsl(readFileSync(file('ca.crt')), readFileSync(file('client.key')), readFileSync(file('client.crt'))), { 'grpc.ssl_target_name_override': 'localhost' });
    const r = await health(c);
    expect((r as { status: string }).status).toBe('healthy');
    c.close();
  });

  it('refuses a gRPC client without a certificate, and a plaintext one', async () => {
    const noCert = new (Service())(`127.0.0.1:${service.grpcPort}`, credentials.createSsl(readFileSync(file('ca.crt'))), { 'grpc.ssl_target_name_override': 'localhost' });
    expect((await health(noCert)) as ServiceError).toHaveProperty('code');
    noCert.close();
    const plain = new (Service())(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
    expect((await health(plain)) as ServiceError).toHaveProperty('code');
    plain.close();
  });

  it('serves HTTPS to a client with a certificate, and refuses one without', async () => {
    expect(await https(true)).toBe(200);
    expect(typeof (await https(false))).toBe('string');
  });

  it('will not start without TLS files unless plaintext is asked for', async () => {
    await expect(
      startService({ grpc: { host: '127.0.0.1', port: 0 }, http: { host: '127.0.0.1', port: 0 }, auth: { disabled: true }, prometheus: false, engine: { executionProvider: 'cpu' }, defaults: loadConfig({}).session }),
    ).rejects.toThrow(/TLS|plaintext/);
  });
});
