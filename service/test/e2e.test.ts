// The original system's end-to-end test, against real servers: the AI Core on a real PostgreSQL
// (Debian's, a throwaway cluster), called over gRPC as the media server calls it. The database
// is reachable, gRPC is reachable, a real photo is compressed, the quality floor holds, the
// bandwidth reduction is measured, and the rows it wrote are checked in PostgreSQL as two
// different users: each sees their own and none of the other's.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { credentials, loadPackageDefinition, Metadata, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODE_DEFAULTS } from '@auralink/aic';
import { loadProto } from '../src/grpc/server.js';
import { Persistence } from '../src/persistence.js';
import type { RunningService } from '../src/service.js';
import { signToken, startTestService } from './helpers/service.js';
import { openStore } from '../src/store/index.js';
import { startServer } from './helpers/postgres.js';

const SECRET = 'e2e-test-secret-long-enough-for-hs256';
const server = startServer('service/test/e2e.test.ts');
const kodak = path.resolve(__dirname, '..', '..', '..', 'shared', 'data', 'kodak');
let service: RunningService;
let persistence: Persistence;
let databaseUrl: string;
let client: any;

const call = (method: string, req: unknown, md: Metadata) => new Promise<any>((resolve, reject) => client[method](req, md, { deadline: Date.now() + 60_000 }, (e: ServiceError | null, r: any) => (e ? reject(e) : resolve(r))));
async function auth(sub: string): Promise<Metadata> {
  const md = new Metadata();
  md.set('authorization', `Bearer ${await signToken(SECRET, sub)}`);
  return md;
}

beforeAll(async () => {
  if (!server) return;
  // A database of its own on the cluster.
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  const name = `aic_e2e_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(server.adminUrl);
  u.pathname = `/${name}`;
  databaseUrl = u.href;
  persistence = new Persistence(await openStore({ databaseUrl, flushIntervalMs: 50 }), 50);
  service = await startTestService({ secret: SECRET }, {
    store: persistence,
  });
  const Service = (loadPackageDefinition(loadProto()) as any).auralink.aic.v1.AICCompressionService;
  client = new Service(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 });
});

afterAll(async () => {
  client?.close();
  await service?.close();
});

describe.skipIf(!server)('end to end on PostgreSQL', () => {
  it('database and gRPC reachable, a real photo compressed at the floor, rows per user', async () => {
    const alice = await auth('alice');
    const health = await call('HealthCheck', {}, alice);
    expect(health).toMatchObject({ status: 'healthy', database_connected: true });

    const file = existsSync(path.join(kodak, 'kodim05.png')) ? path.join(kodak, 'kodim05.png') : null;
    const { data, info } = file
      ? await sharp(file).resize(256, 176).removeAlpha().raw().toBuffer({ resolveWithObject: true })
      : { data: Buffer.alloc(256 * 176 * 3, 128), info: { width: 256, height: 176 } };
    let original = 0;
    let compressed = 0;
    for (let i = 0; i < 3; i++) {
      const r = await call('CompressFrame', { session_id: 'e2e-call', frame_type: 'FRAME_TYPE_VIDEO', frame_data: data, metadata: { width: info.width, height: info.height, fps: 15 }, sequence: i }, alice);
      original += r.original_size;
      compressed += r.compressed_size;
      // The floor holds: a frame served at SUCCESS scored at least the mode's floor.
      if (r.status === 'COMPRESSION_STATUS_SUCCESS') expect(r.quality.score).toBeGreaterThanOrEqual(MODE_DEFAULTS.adaptive.minQualityScore);
      else expect(['COMPRESSION_STATUS_FALLBACK', 'COMPRESSION_STATUS_QUALITY_THRESHOLD_NOT_MET']).toContain(r.status);
    }
    const reduction = 1 - compressed / original;
    expect(reduction).toBeGreaterThan(0.8);
    // Bob codes one frame too.
    await call('CompressFrame', { session_id: 'bob-call', frame_type: 'FRAME_TYPE_VIDEO', frame_data: data, metadata: { width: info.width, height: info.height } }, await auth('bob'));
    service.core.endSession('alice', 'e2e-call');
    service.core.endSession('bob', 'bob-call');
    persistence.tick();
    await persistence.store.flush();

    // In PostgreSQL, as the application role of each user: the policies decide what each sees.
    const db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const as = async (user: string, sql: string) => {
      await db.query('BEGIN');
      await db.query('SET LOCAL ROLE aic_app');
      await db.query("SELECT set_config('aic.user_id', $1, true)", [user]);
      const r = await db.query(sql);
      await db.query('COMMIT');
      return r.rows;
    };
    const aliceSessions = await as('alice', 'SELECT user_id, session_id, frames_processed, bytes_in, bytes_out FROM aic_sessions');
    expect(aliceSessions).toHaveLength(1);
    expect(aliceSessions[0]).toMatchObject({ user_id: 'alice', session_id: 'e2e-call' });
    expect(Number(aliceSessions[0].frames_processed)).toBe(3);
    expect(Number(aliceSessions[0].bytes_in)).toBe(original);
    expect(Number(aliceSessions[0].bytes_out)).toBe(compressed);
    const aliceMetrics = await as('alice', 'SELECT DISTINCT user_id FROM aic_metrics');
    expect(aliceMetrics).toEqual([{ user_id: 'alice' }]);
    const bobSessions = await as('bob', 'SELECT user_id, session_id FROM aic_sessions');
    expect(bobSessions).toEqual([{ user_id: 'bob', session_id: 'bob-call' }]);
    // Bob cannot change Alice's rows either.
    await db.query('BEGIN');
    await db.query('SET LOCAL ROLE aic_app');
    await db.query("SELECT set_config('aic.user_id', 'bob', true)");
    const upd = await db.query("UPDATE aic_sessions SET frames_processed = 0 WHERE user_id = 'alice'");
    await db.query('COMMIT');
    expect(upd.rowCount).toBe(0);
    await db.end();
  }, 120_000);
});
