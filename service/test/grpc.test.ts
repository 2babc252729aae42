// The AI Core over gRPC, called as a media server calls it: a grpc-js client built from the .proto
// alone, a real engine, real photos. The original's end-to-end test (gRPC reachable, a real frame
// compressed, the quality floor held, bandwidth reduction measured), auth failures, bad requests
// (each a gRPC status with a message), a 1,000-frame stream read slowly (memory stays bounded),
// 50 concurrent streams, and shutdown during a stream.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { credentials, loadPackageDefinition, Metadata, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { SignJWT } from 'jose';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODE_DEFAULTS } from '@auralink/aic';
import { loadProto, SERVICE_NAME } from '../src/grpc/server.js';
import type { RunningService } from '../src/service.js';
import { startTestService } from './helpers/service.js';

const SECRET = 'test-secret-that-is-long-enough-for-hs256';
const kodak = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'kodak');
let service: RunningService;
let client: Client & Record<string, any>;
let photo: { data: Buffer; width: number; height: number };

async function token(sub: string, scope?: string): Promise<string> {
  return new SignJWT(scope ? { scope } : {}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('10m').sign(new TextEncoder().encode(SECRET));
}

async function auth(sub = 'user-a', scope?: string): Promise<Metadata> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${await token(sub, scope)}`);
  return md;
}

function call<T>(method: string, request: unknown, metadata: Metadata, options: { deadline?: number } = {}): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, metadata, options, (error: ServiceError | null, response: T) => (error ? reject(error) : resolve(response))));
}

function videoRequest(sessionId: string, sequence = 0, extra: Record<string, unknown> = {}) {
  return { session_id: sessionId, frame_type: 'FRAME_TYPE_VIDEO', frame_data: photo.data, metadata: { width: photo.width, height: photo.height, pixel_format: 'rgb24', fps: 15 }, sequence, ...extra };
}

beforeAll(async () => {
  const file = existsSync(path.join(kodak, 'kodim23.png')) ? path.join(kodak, 'kodim23.png') : undefined;
  if (file) {
    const { data, info } = await sharp(file).resize(192, 128).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    photo = { data, width: info.width, height: info.height };
  } else {
    // Without the shared data set: a smooth synthetic image of the same size.
    const data = Buffer.alloc(192 * 128 * 3);
    for (let i = 0; i < data.length; i++) data[i] = Math.round(128 + 100 * Math.sin(i / 700) * Math.cos((i % 576) / 90));
    photo = { data, width: 192, height: 128 };
  }
  service = await startTestService({ secret: SECRET });
  const proto = loadPackageDefinition(loadProto()) as any;
  const Ctor = proto.auralink.aic.v1.AICCompressionService;
  client = new Ctor(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
});

afterAll(async () => {
  client?.close();
  await service?.close();
});

describe('AI Core over gRPC', () => {
  it('compresses a real frame end to end: the floor held, bandwidth saved, decodable by DecompressFrame', async () => {
    const md = await auth();
    const health = await call<{ status: string; version: string }>('HealthCheck', {}, md);
    expect(health.status).toBe('healthy');
    const r = await call<any>('CompressFrame', videoRequest('e2e', 7), md);
    expect(r.session_id).toBe('e2e');
    expect(r.sequence).toBe(7);
    expect(['COMPRESSION_STATUS_SUCCESS', 'COMPRESSION_STATUS_FALLBACK']).toContain(r.status);
    expect(r.original_size).toBe(photo.data.length);
    expect(r.compressed_size).toBe(r.compressed_data.length);
    expect(r.actual_compression_ratio).toBeCloseTo(1 - r.compressed_size / r.original_size, 9);
    // Bandwidth reduction measured: adaptive mode saves most of the raw bytes, at or above its floor.
    expect(r.actual_compression_ratio).toBeGreaterThan(0.8);
    expect(r.quality.score).toBeGreaterThanOrEqual(MODE_DEFAULTS.adaptive.minQualityScore);
    expect(r.timings.total_ms).toBeGreaterThan(0);
    expect(r.model_type).not.toBe('');
    const d = await call<any>('DecompressFrame', { compressed_data: r.compressed_data }, md);
    expect(d.frame_type).toBe('FRAME_TYPE_VIDEO');
    expect(d.metadata.width).toBe(photo.width);
    expect(d.frame_data.length).toBe(photo.data.length);
  });

  it('answers hints and network analysis as the guide lists them', async () => {
    const md = await auth();
    const a = await call<any>('AnalyzeNetworkConditions', { samples: [{ available_bandwidth_kbps: 800, rtt_ms: 80 }, { available_bandwidth_kbps: 750, rtt_ms: 90 }] }, md);
    expect(a.network_quality).toBe('poor');
    expect(a.recommended_mode).toBe('COMPRESSION_MODE_AGGRESSIVE');
    expect(a.stability_score).toBeGreaterThan(0);
    const h = await call<any>('GetCompressionHints', { session_id: 'e2e', frame_type: 'FRAME_TYPE_VIDEO', metadata: { width: photo.width, height: photo.height, fps: 15 } }, md);
    expect(h.predicted_compression_ratio).toBeGreaterThan(0);
    expect(h.confidence).toBeGreaterThanOrEqual(0);
  });

  it('refuses calls without a valid token, and a user acting for another', async () => {
    const none = await call('CompressFrame', videoRequest('x'), new Metadata()).catch((e: ServiceError) => e);
    expect((none as ServiceError).code).toBe(status.UNAUTHENTICATED);
    const bad = new Metadata();
    bad.set('authorization', 'Bearer not.a.jwt');
    expect(((await call('HealthCheck', {}, bad).catch((e) => e)) as ServiceError).code).toBe(status.UNAUTHENTICATED);
    const other = await call('CompressFrame', videoRequest('x', 0, { user_id: 'user-b' }), await auth('user-a')).catch((e: ServiceError) => e);
    expect((other as ServiceError).code).toBe(status.PERMISSION_DENIED);
    expect((other as ServiceError).details).toContain('user-b');
    // The media server's own token may act for its users.
    const ok = await call<any>('CompressFrame', videoRequest('x', 0, { user_id: 'user-b' }), await auth('sfu', 'aic:service'));
    expect(ok.compressed_size).toBeGreaterThan(0);
  });

  it('answers bad requests with INVALID_ARGUMENT or DATA_LOSS and a message naming the field', async () => {
    const md = await auth();
    const cases: [unknown, number, RegExp][] = [
      [{ session_id: 's', frame_type: 'FRAME_TYPE_UNSPECIFIED', frame_data: Buffer.alloc(10) }, status.INVALID_ARGUMENT, /frame_type/],
      [{ ...videoRequest('s'), frame_data: Buffer.alloc(0) }, status.INVALID_ARGUMENT, /frame_data/],
      [{ ...videoRequest('s'), metadata: { width: 0, height: 0 } }, status.INVALID_ARGUMENT, /width/],
      [{ ...videoRequest('s'), metadata: { width: 10, height: 10 } }, status.INVALID_ARGUMENT, /INVALID_ARGUMENT/],
      [{ ...videoRequest(''), session_id: '' }, status.INVALID_ARGUMENT, /session_id/],
      [{ session_id: 's', frame_type: 'FRAME_TYPE_AUDIO', frame_data: Buffer.alloc(640) }, status.INVALID_ARGUMENT, /sample_rate/],
    ];
    for (const [request, code, message] of cases) {
      const e = (await call('CompressFrame', request, md).catch((x) => x)) as ServiceError;
      expect(e.code, JSON.stringify(request).slice(0, 80)).toBe(code);
      expect(e.details).toMatch(message);
    }
    const corrupt = (await call('DecompressFrame', { compressed_data: Buffer.from('definitely not a payload') }, md).catch((x) => x)) as ServiceError;
    expect(corrupt.code).toBe(status.DATA_LOSS);
    expect(corrupt.details).toContain('CORRUPT_PAYLOAD');
  });

  it('streams 1,000 frames in order to a slow reader with bounded memory', async () => {
    const md = await auth();
    const stream = client.CompressStream(md);
    const total = 1000;
    // Small frames so the run is about flow control, not inference time.
    const small = Buffer.alloc(32 * 24 * 3);
    for (let i = 0; i < small.length; i++) small[i] = (i * 5) & 255;
    let written = 0;
    // Write as fast as the stream accepts; the server reads no more than its window ahead.
    const writeAll = async () => {
      for (let i = 0; i < total; i++) {
        const ok = stream.write({ frame_type: 'FRAME_TYPE_VIDEO', frame_data: small, metadata: { width: 32, height: 24 }, sequence: i });
        written++;
        if (!ok) await new Promise((r) => stream.once('drain', r));
      }
      stream.end();
    };
    const received: number[] = [];
    let peakRss = 0;
    const rss0 = process.memoryUsage.rss();
    const reading = new Promise<void>((resolve, reject) => {
      stream.on('data', (r: any) => {
        received.push(r.sequence);
        peakRss = Math.max(peakRss, process.memoryUsage.rss());
        // A slow reader: pause after each response.
        stream.pause();
        setTimeout(() => stream.resume(), received.length < 50 ? 20 : 0);
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    await Promise.all([writeAll(), reading]);
    expect(written).toBe(total);
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i));
    // The service held a few frames at a time, not the stream: RSS grew by far less than the 3.6 MB of input.
    expect(peakRss - rss0).toBeLessThan(64 * 1024 * 1024);
    expect(service.grpc.openStreams).toBe(0);
  });

  it('serves 50 concurrent streams', async () => {
    const md = await auth();
    const small = Buffer.alloc(32 * 24 * 3, 90);
    const one = (n: number) =>
      new Promise<number>((resolve, reject) => {
        const s = client.CompressStream(md);
        let got = 0;
        s.on('data', () => got++);
        s.on('end', () => resolve(got));
        s.on('error', reject);
        for (let i = 0; i < 5; i++) s.write({ session_id: `c${n}`, frame_type: 'FRAME_TYPE_VIDEO', frame_data: small, metadata: { width: 32, height: 24 }, sequence: i });
        s.end();
      });
    const counts = await Promise.all(Array.from({ length: 50 }, (_, n) => one(n)));
    expect(counts).toEqual(Array(50).fill(5));
  });

  it('exposes the metrics of the frames it coded on /metrics', async () => {
    const res = await fetch(`http://127.0.0.1:${service.httpPort}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toMatch(/aic_requests_total\{status="(success|fallback)"\} [1-9]/);
    expect(text).toContain('aic_inference_latency_ms_bucket');
    const health = await (await fetch(`http://127.0.0.1:${service.httpPort}/health`)).json();
    expect(health.status).toBe('healthy');
    expect(typeof health.version).toBe('string');
  });
});

describe('graceful shutdown', () => {
  it('goes unready first, lets a stream in flight finish its frames, then refuses new calls', async () => {
    const other = await startTestService({ secret: SECRET }, {
      shutdownGraceMs: 5000,
    });
    const proto = loadPackageDefinition(loadProto()) as any;
    const c = new proto.auralink.aic.v1.AICCompressionService(`127.0.0.1:${other.grpcPort}`, credentials.createInsecure());
    const md = await auth();
    const s = c.CompressStream(md);
    const got: number[] = [];
    const done = new Promise<void>((resolve, reject) => {
      s.on('data', (r: any) => got.push(r.sequence));
      s.on('end', resolve);
      s.on('error', reject);
    });
    const small = Buffer.alloc(32 * 24 * 3, 77);
    for (let i = 0; i < 3; i++) s.write({ frame_type: 'FRAME_TYPE_VIDEO', frame_data: small, metadata: { width: 32, height: 24 }, sequence: i });
    await new Promise((r) => setTimeout(r, 50));
    const closing = other.close();
    const ready = await fetch(`http://127.0.0.1:${other.httpPort}/health/ready`).catch(() => null);
    if (ready) expect(ready.status).toBe(503);
    // The open stream still gets its frames coded, then ends cleanly.
    for (let i = 3; i < 6; i++) s.write({ frame_type: 'FRAME_TYPE_VIDEO', frame_data: small, metadata: { width: 32, height: 24 }, sequence: i });
    s.end();
    await done;
    expect(got).toEqual([0, 1, 2, 3, 4, 5]);
    await closing;
    const after = await new Promise<ServiceError | null>((resolve) => c.HealthCheck({}, md, { deadline: Date.now() + 2000 }, (e: ServiceError | null) => resolve(e)));
    expect(after?.code).toBe(status.UNAVAILABLE);
    c.close();
  });
});

describe('service definition', () => {
  it('is the guide\'s service name', () => {
    expect(SERVICE_NAME).toBe('auralink.aic.v1.AICCompressionService');
  });
});
