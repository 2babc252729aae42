// What a hostile or careless caller sends the service, at random: gRPC requests with fields of
// every kind out of range (frame types, sizes, dimensions, modes, users, payload bytes, valid
// payloads with bytes flipped) and HTTP requests with random bodies and queries. Every call must
// end in a defined answer (a result, or a gRPC status / HTTP 4xx naming what is wrong; never
// INTERNAL, UNKNOWN or a 5xx), and the service must still be healthy afterwards. Seeded, bounded.
// More iterations: AIC_FUZZ_SERVICE_ITERATIONS=5000 npx vitest run service/test/fuzz-service.test.ts
import { credentials, loadPackageDefinition, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProto } from '../src/grpc/server.js';
import { Persistence } from '../src/persistence.js';
import type { RunningService } from '../src/service.js';
import { startTestService } from './helpers/service.js';
import { openStore } from '../src/store/index.js';

const SECRET = 'fuzz-service-secret-long-enough-for-hs256';
const ITERATIONS = Number(process.env.AIC_FUZZ_SERVICE_ITERATIONS ?? 250);
let service: RunningService;
let client: any;
let md: Metadata;
let token: string;

// A small deterministic generator (xorshift32), so a failure can be replayed.
let seed = 0x9e3779b9;
const rnd = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
const bytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
};

beforeAll(async () => {
  service = await startTestService({ secret: SECRET }, {
    store: new Persistence(await openStore({ flushIntervalMs: 100 }), 100),
  });
  const Service = (loadPackageDefinition(loadProto()) as any).auralink.aic.v1.AICCompressionService;
  client = new Service(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure(), { 'grpc.max_send_message_length': 64 << 20 });
  token = await new SignJWT({ scope: 'aic:service' }).setProtectedHeader({ alg: 'HS256' }).setSubject('fuzzer').setExpirationTime('30m').sign(new TextEncoder().encode(SECRET));
  md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
});
afterAll(async () => {
  client?.close();
  await service?.close();
});

const call = (method: string, req: unknown) =>
  new Promise<{ ok: boolean; code?: number; details?: string }>((resolve) =>
    client[method](req, md, { deadline: Date.now() + 30_000 }, (e: ServiceError | null) => resolve(e ? { ok: false, code: e.code, details: e.details } : { ok: true })),
  );

const FRAME_TYPES = ['FRAME_TYPE_UNSPECIFIED', 'FRAME_TYPE_VIDEO', 'FRAME_TYPE_AUDIO', 'FRAME_TYPE_SCREEN', 'FRAME_TYPE_DATA'];
const MODES = ['COMPRESSION_MODE_UNSPECIFIED', 'COMPRESSION_MODE_OFF', 'COMPRESSION_MODE_CONSERVATIVE', 'COMPRESSION_MODE_ADAPTIVE', 'COMPRESSION_MODE_AGGRESSIVE'];
const odd = () => pick([0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 48, 100, 8000, 16000, 44100, 48000, 65535, 16384, 16385, 1 << 20, 2 ** 32 - 1]);
const real = () => pick([0, -1, 0.5, 0.9999, 1, 1.5, 1e9, -1e-9, Number.NaN, Number.POSITIVE_INFINITY]);

function randomCompress(valid: Buffer[]) {
  const w = odd();
  const h = odd();
  const size = pick([0, 1, 3, 100, 640, 1920, w * h * 3, 48 * 32 * 3, 32 * 24 * 4]);
  return {
    session_id: pick(['', 's', 'x'.repeat(int(300)), `fz-${int(4)}`]),
    user_id: pick(['', 'fuzzer', 'someone', 'é🙂', 'x'.repeat(int(400))]),
    frame_type: pick(FRAME_TYPES),
    frame_data: size > 4 * 1024 * 1024 ? bytes(1024) : rnd() < 0.3 && valid.length ? pick(valid) : bytes(Math.min(size, 1 << 16)),
    metadata: rnd() < 0.2 ? null : { width: w, height: h, fps: real(), sample_rate: odd(), channels: pick([0, 1, 2, 3, 255]), keyframe: rnd() < 0.5, timestamp_us: pick([0, -5, 2 ** 53, 123456]), pixel_format: pick(['', 'rgb24', 'rgba', 'i420', 'bgr', '\u0000']), sample_format: pick(['', 's16le', 'f32le', 'u8']) },
    mode: pick(MODES),
    target_compression_ratio: real(),
    max_latency_ms: real(),
    min_quality_score: real(),
    network: rnd() < 0.5 ? null : { available_bandwidth_kbps: real() * 1000, rtt_ms: real(), packet_loss_percent: real() * 100, jitter_ms: real() },
    sequence: int(1000),
  };
}

describe('the service under random input', () => {
  it(`answers ${ITERATIONS} random gRPC calls with results or defined statuses, and stays healthy`, async () => {
    // A few real payloads to mutate.
    const valid: Buffer[] = [];
    const seedFrame = Buffer.alloc(48 * 32 * 3);
    for (let i = 0; i < seedFrame.length; i++) seedFrame[i] = (i * 7) & 255;
    const ok = await new Promise<any>((resolve, reject) =>
      client.CompressFrame({ session_id: 'seed', frame_type: 'FRAME_TYPE_VIDEO', frame_data: seedFrame, metadata: { width: 48, height: 32 } }, md, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))),
    );
    valid.push(ok.compressed_data);
    const allowed = new Set([status.INVALID_ARGUMENT, status.DATA_LOSS, status.FAILED_PRECONDITION, status.RESOURCE_EXHAUSTED, status.PERMISSION_DENIED, status.UNAUTHENTICATED, status.DEADLINE_EXCEEDED]);
    const seen = new Map<string, number>();
    for (let i = 0; i < ITERATIONS; i++) {
      const which = pick(['CompressFrame', 'CompressFrame', 'DecompressFrame', 'GetCompressionHints', 'AnalyzeNetworkConditions']);
      let req: unknown;
      if (which === 'CompressFrame') req = randomCompress(valid);
      else if (which === 'DecompressFrame') {
        const base = pick(valid);
        const mutated = Buffer.from(rnd() < 0.5 ? base : bytes(int(200)));
        for (let k = int(4); k > 0 && mutated.length; k--) mutated[int(mutated.length)] ^= 1 << int(8);
        req = { session_id: pick(['', 'rx']), compressed_data: rnd() < 0.1 ? Buffer.alloc(0) : mutated };
      } else if (which === 'GetCompressionHints') req = { session_id: pick(['', 'seed', 'nope']), frame_type: pick(FRAME_TYPES), metadata: { width: odd(), height: odd(), fps: real(), sample_rate: odd(), channels: odd() } };
      else req = { samples: Array.from({ length: int(5) }, () => ({ available_bandwidth_kbps: real() * 1000, rtt_ms: real(), packet_loss_percent: real() * 100, jitter_ms: real() })), requested_mode: pick(MODES) };
      const r = await call(which, req);
      const key = r.ok ? `${which} ok` : `${which} ${status[r.code!]}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (!r.ok) {
        expect(allowed.has(r.code!), `${which} answered ${status[r.code!]}: ${r.details} (iteration ${i})`).toBe(true);
        expect(r.details!.length).toBeGreaterThan(0);
      }
    }
    // Something of each kind went through and something was refused: the fuzzer reached both sides.
    expect([...seen.keys()].some((k) => k.endsWith(' ok'))).toBe(true);
    expect([...seen.keys()].some((k) => k.includes('INVALID_ARGUMENT'))).toBe(true);
    const h = await new Promise<any>((resolve, reject) => client.HealthCheck({}, md, (e: unknown, r: unknown) => (e ? reject(e) : resolve(r))));
    expect(h.status).toBe('healthy');
  }, 300_000);

  it(`answers ${ITERATIONS} random HTTP requests with 2xx or 4xx, never 5xx`, async () => {
    const base = `http://127.0.0.1:${service.httpPort}`;
    const fields = ['mode', 'targetCompressionRatio', 'maxLatencyMs', 'minQualityScore', 'enabled', 'optOut', 'fallbackOnQualityLoss', 'useGpu', 'modelType', 'modelVersion', 'dataRetentionHours', 'userId', '__proto__', 'constructor', 'x'];
    const values = [null, true, false, 0, -1, 0.5, 1, 2, 1e308, 'adaptive', 'off', 'turbo', '', 'x'.repeat(10_000), [], {}, [1, 2], { a: 1 }];
    for (let i = 0; i < ITERATIONS; i++) {
      const kind = int(4);
      let res: Response;
      const auth = rnd() < 0.9 ? { authorization: `Bearer ${token}` } : rnd() < 0.5 ? {} : { authorization: pick(['Bearer', 'Bearer x.y.z', 'Basic Zm9v', `Bearer ${token}x`]) };
      if (kind === 0) {
        const body = rnd() < 0.2 ? pick(['', '{', 'null', '[]', '"x"', '{"mode":', bytes(64).toString('latin1')]) : JSON.stringify(Object.fromEntries(Array.from({ length: int(4) }, () => [pick(fields), pick(values)])));
        res = await fetch(`${base}/api/v1/aic/config`, { method: 'POST', body, headers: { ...auth, 'content-type': 'application/json' } });
      } else if (kind === 1) {
        const q = new URLSearchParams();
        if (rnd() < 0.7) q.set('from', pick(['', 'now', '2026-01-01T00:00:00Z', '1970-01-01', 'NaN', new Date(Date.now() - int(1e9)).toISOString()]));
        if (rnd() < 0.7) q.set('to', pick(['', '2030-01-01T00:00:00Z', new Date().toISOString(), 'x']));
        if (rnd() < 0.5) q.set('bucketSeconds', pick(['0', '1', '15', '-3', '1.5', '1e12', 'abc']));
        res = await fetch(`${base}/api/v1/aic/metrics?${q}`, { headers: auth });
      } else if (kind === 2) {
        res = await fetch(`${base}${pick(['/health', '/health/live', '/health/ready', '/metrics', '/api/v1/aic/live', '/dashboard', '/nope', '/api/v1/aic/config', '/%00', '/api/v1/aic/../health'])}`, { headers: auth, method: pick(['GET', 'GET', 'PUT', 'DELETE']) });
      } else {
        res = await fetch(`${base}/api/v1/aic/config`, { method: 'POST', body: 'x'.repeat(pick([10, 70 * 1024])), headers: auth });
      }
      await res.arrayBuffer();
      expect(res.status, `HTTP request ${i} (kind ${kind}) answered ${res.status}`).toBeLessThan(500);
    }
    expect((await fetch(`${base}/health`)).status).toBe(200);
  }, 300_000);
});
