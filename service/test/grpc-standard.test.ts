// What gRPC tooling expects of any server: the standard health service (grpc.health.v1.Health,
// what load balancers and Kubernetes' gRPC probes call) and server reflection (what grpcurl and
// other languages' tools use to call the service without its .proto). Also cancellation and
// deadlines: a cancelled stream ends its session, a unary call past its deadline is counted as a
// timeout.
import { credentials, loadPackageDefinition, makeGenericClientConstructor, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto, SERVICE_NAME } from '../src/grpc/server.js';
import type { RunningService } from '../src/service.js';
import { startTestService } from './helpers/service.js';

const SECRET = 'standard-test-secret-long-enough-for-hs256';
let service: RunningService;
let address: string;

beforeAll(async () => {
  service = await startTestService({ secret: SECRET });
  address = `127.0.0.1:${service.grpcPort}`;
});
afterAll(async () => service?.close());

describe('standard gRPC services', () => {
  it('answers grpc.health.v1.Health/Check for the server and the service', async () => {
    const pkg = loadPackageDefinition(loadSync(healthProto, { keepCase: true, enums: String })) as any;
    const client = new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
    const check = (service: string) => new Promise<any>((resolve, reject) => client.Check({ service }, (e: ServiceError | null, r: any) => (e ? reject(e) : resolve(r))));
    expect((await check('')).status).toBe('SERVING');
    expect((await check(SERVICE_NAME)).status).toBe('SERVING');
    await expect(check('no.such.Service')).rejects.toMatchObject({ code: status.NOT_FOUND });
    client.close();
  });

  it('lists the service and serves its descriptor over server reflection', async () => {
    const reflectionProto = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1alpha/reflection.proto');
    const pkg = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as any;
    const client = new pkg.grpc.reflection.v1alpha.ServerReflection(address, credentials.createInsecure());
    const ask = (request: object) =>
      new Promise<any>((resolve, reject) => {
        const call = client.ServerReflectionInfo();
        call.on('data', (r: any) => {
          resolve(r);
          call.end();
        });
        call.on('error', reject);
        call.write(request);
      });
    const list = await ask({ list_services: '' });
    expect(list.list_services_response.service.map((s: { name: string }) => s.name)).toContain(SERVICE_NAME);
    const file = await ask({ file_containing_symbol: SERVICE_NAME });
    const descriptors: Buffer[] = file.file_descriptor_response.file_descriptor_proto;
    expect(descriptors.length).toBeGreaterThan(0);
    expect(Buffer.concat(descriptors).toString('latin1')).toContain('CompressStream');
    client.close();
  });
});

describe('cancellation and deadlines', () => {
  const md = async () => {
    const m = new Metadata();
    m.set('authorization', `Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setExpirationTime('5m').sign(new TextEncoder().encode(SECRET))}`);
    return m;
  };
  const client = () => new ((loadPackageDefinition(loadProto()) as any).auralink.aic.v1.AICCompressionService)(address, credentials.createInsecure());

  it('ends the session of a stream the client cancels', async () => {
    const c = client();
    const s = c.CompressStream(await md());
    const frame = Buffer.alloc(32 * 24 * 3, 9);
    const first = new Promise((resolve) => s.once('data', resolve));
    s.on('error', () => undefined);
    s.write({ session_id: 'to-cancel', frame_type: 'FRAME_TYPE_VIDEO', frame_data: frame, metadata: { width: 32, height: 24 } });
    await first;
    const before = service.core.activeSessions;
    expect(before).toBeGreaterThanOrEqual(1);
    s.cancel();
    for (let i = 0; i < 100 && service.grpc.openStreams > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(service.grpc.openStreams).toBe(0);
    expect(service.core.activeSessions).toBe(before - 1);
    c.close();
  });

  it('ends a session of unary calls on EndSession', async () => {
    const c = client();
    const metadata = await md();
    const unary = (method: string, req: unknown) => new Promise<any>((resolve, reject) => c[method](req, metadata, (e: ServiceError | null, r: unknown) => (e ? reject(e) : resolve(r))));
    await unary('CompressFrame', { session_id: 'to-end', frame_type: 'FRAME_TYPE_VIDEO', frame_data: Buffer.alloc(32 * 24 * 3, 5), metadata: { width: 32, height: 24 } });
    const before = service.core.activeSessions;
    expect(await unary('EndSession', { session_id: 'to-end' })).toEqual({ ended: true });
    expect(service.core.activeSessions).toBe(before - 1);
    expect(await unary('EndSession', { session_id: 'to-end' })).toEqual({ ended: false });
    await expect(unary('EndSession', {})).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    c.close();
  });

  it('counts a unary call past its deadline as a timeout', async () => {
    const c = client();
    const big = Buffer.alloc(256 * 192 * 3);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + (i >> 9)) & 255;
    const metadata = await md();
    // Eight frames of one session at once: they are coded in order, so the later ones wait in
    // the handler past their deadline.
    const calls = Array.from({ length: 8 }, () =>
      new Promise<ServiceError | null>((resolve) =>
        c.CompressFrame({ session_id: 'late', frame_type: 'FRAME_TYPE_VIDEO', frame_data: big, metadata: { width: 256, height: 192 } }, metadata, { deadline: Date.now() + 40 }, (err: ServiceError | null) => resolve(err)),
      ),
    );
    const errors = await Promise.all(calls);
    expect(errors.some((e) => e?.code === status.DEADLINE_EXCEEDED)).toBe(true);
    // The frame that was already being coded finishes; the call that waited for it is a timeout.
    for (let i = 0; i < 200; i++) {
      if (/aic_requests_total\{status="timeout"\} [1-9]/.test(await service.registry.metrics())) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await service.registry.metrics()).toMatch(/aic_requests_total\{status="timeout"\} [1-9]/);
    c.close();
  });
});
