// The service's PostgreSQL layer (service/src/store) against both backends: the embedded PGlite
// (always) and a real PostgreSQL server: AIC_TEST_DATABASE_URL when set (a role that may CREATE
// DATABASE; the tests make and drop their own databases), else a throwaway cluster started by
// scripts/start-postgres.sh for this file and stopped after it. Without PostgreSQL's binaries the
// server half is skipped with a warning, or fails when AIC_TEST_REQUIRE_POSTGRES=1 (CI).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from './helpers/postgres.js';
import {
  ConfigValidationError,
  loadMigrations,
  migrate,
  openDb,
  openStore,
  withUser,
  type Db,
  type Queryable,
  type Store,
  type StoreOptions,
  type Tx,
} from '../src/store/index.js';

const HOUR = 3_600_000;

const server = startServer('service/test/store.test.ts');
let admin: pg.Pool | null = null;
const madeDatabases: string[] = [];
const madeRoles: string[] = [];
let serial = 0;

/** A new empty database on the server; its URL (as the admin's user, or as `user`). */
async function createDatabase(owner?: string): Promise<string> {
  admin ??= new pg.Pool({ connectionString: server!.adminUrl, max: 2 });
  const name = `aic_t_${process.pid}_${++serial}`;
  await admin.query(`CREATE DATABASE ${name}${owner ? ` OWNER ${owner}` : ''}`);
  madeDatabases.push(name);
  const u = new URL(server!.adminUrl);
  u.pathname = `/${name}`;
  if (owner) {
    u.username = owner;
    u.password = '';
  }
  return u.toString();
}

afterAll(async () => {
  if (!admin) return;
  for (const name of madeDatabases) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
  for (const role of madeRoles) await admin.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  await admin.end();
});

// ---- helpers --------------------------------------------------------------------------------------

/** A Db that logs every statement and can fail the next transactions as a lost connection would. */
function spy(inner: Db) {
  const log: string[] = [];
  let failing = 0;
  const wrap = (q: Queryable): Queryable => ({
    query: (sql, params) => {
      log.push(sql);
      return q.query(sql, params);
    },
    exec: (sql) => {
      log.push(sql);
      return q.exec(sql);
    },
  });
  const db: Db = {
    backend: inner.backend,
    description: `spy on ${inner.description}`,
    ...wrap(inner),
    transaction: (fn) => {
      if (failing > 0) {
        failing--;
        return Promise.reject(Object.assign(new Error('simulated: connection terminated unexpectedly'), {}));
      }
      return inner.transaction((tx) => fn(wrap(tx)));
    },
    listen: (channel, cb, options) => inner.listen(channel, cb, options),
    close: async () => {},
  };
  return {
    db,
    log,
    failNextTransactions(n: number) {
      failing = n;
    },
    count(re: RegExp) {
      return log.filter((s) => re.test(s)).length;
    },
  };
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Runs fn in a transaction that is always rolled back; returns fn's result. */
async function rolledBack<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const sentinel = new Error('rollback');
  let out: T | undefined;
  await db
    .transaction(async (tx) => {
      out = await fn(tx);
      throw sentinel;
    })
    .catch((err) => {
      if (err !== sentinel) throw err;
    });
  return out as T;
}

/** A direct SQL session as aic_app for one user: no helper, no WHERE on user_id from us. */
async function asApp<T>(db: Db, userId: string | null, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return rolledBack(db, async (tx) => {
    await tx.query('SET LOCAL ROLE aic_app');
    if (userId !== null) await tx.query(`SELECT set_config('aic.user_id', $1, true)`, [userId]);
    return fn(tx);
  });
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection');
}

const count = async (q: Queryable, sql: string, params: unknown[] = []) => Number((await q.query<{ n: unknown }>(sql, params)).rows[0]!.n);

const quiet: StoreOptions = { flushIntervalMs: 3_600_000, retentionSweepMs: 0, configCacheTtlMs: 3_600_000, onError: () => {} };

// ---- the suite, once per backend ----------------------------------------------------------------

interface Harness {
  name: 'pglite' | 'postgres';
  /** A Db on a new empty database, and a way to open another connection to the same database. */
  fresh(): Promise<{ db: Db; url: string | null }>;
}

const opened: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const o of opened.reverse()) await o.close().catch(() => {});
});

function suite(h: Harness) {
  let db: Db; // the test database, migrated by the first test
  let url: string | null;
  /** A second Db on the same database: other connections on PostgreSQL; the same instance on PGlite. */
  let other: Db;
  let storeA: Store;
  let storeB: Store;

  beforeAll(async () => {
    ({ db, url } = await h.fresh());
    opened.push(db);
    other = url ? await openDb({ databaseUrl: url }) : db;
    if (url) opened.push(other);
  });

  it('migrations apply once, re-run as no-ops, also from two connections at once', async () => {
    const migrations = loadMigrations();
    expect(migrations.map((m) => m.version)).toEqual([1, 2, 3]);
    const [a, b] = await Promise.all([migrate(db, migrations), migrate(other, migrations)]);
    expect([...a.applied, ...b.applied].sort()).toEqual([1, 2, 3]);
    expect([...a.alreadyApplied, ...b.alreadyApplied].sort()).toEqual([1, 2, 3]);
    const again = await migrate(db, migrations);
    expect(again).toEqual({ applied: [], alreadyApplied: [1, 2, 3], unknown: [] });
    expect(await count(db, 'SELECT count(*) AS n FROM aic_schema_migrations')).toBe(3);

    const tables = await db.query<{ relname: string; relrowsecurity: boolean; relforcerowsecurity: boolean }>(
      `SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relkind = 'r' AND relname LIKE 'aic\\_%' AND relname <> 'aic_schema_migrations' ORDER BY relname`,
    );
    expect(tables.rows.map((t) => t.relname)).toEqual(['aic_alerts', 'aic_configs', 'aic_metrics', 'aic_model_performance', 'aic_sessions']);
    for (const t of tables.rows) expect([t.relname, t.relrowsecurity, t.relforcerowsecurity]).toEqual([t.relname, true, true]);
    const policies = await count(db, `SELECT count(*) AS n FROM pg_policies WHERE tablename LIKE 'aic\\_%'`);
    expect(policies).toBe(11);

    // An applied migration that changed is refused; a failing one leaves nothing behind.
    const changed = migrations.map((m) => (m.version === 2 ? { ...m, checksum: 'x' } : m));
    expect((await rejection(migrate(db, changed))).message).toMatch(/migration 2 .* different file/);
    const bad = { version: 999, name: 'bad', sql: 'CREATE TABLE aic_tmp (a int); SELECT 1 / 0;', checksum: 'y' };
    expect((await rejection(migrate(db, [...migrations, bad]))).message).toMatch(/migration 999 \(bad\) failed: division by zero/);
    expect(await count(db, `SELECT count(*) AS n FROM pg_class WHERE relname = 'aic_tmp'`)).toBe(0);
    expect(await count(db, 'SELECT count(*) AS n FROM aic_schema_migrations WHERE version = 999')).toBe(0);
    // A version recorded by newer code is reported, not touched.
    await db.query(`INSERT INTO aic_schema_migrations (version, name, checksum) VALUES (998, 'newer', 'z')`);
    expect((await migrate(db, migrations)).unknown).toEqual([998]);
    await db.query('DELETE FROM aic_schema_migrations WHERE version = 998');

    storeA = await openStore({ ...quiet, db });
    storeB = url ? await openStore({ ...quiet, databaseUrl: url }) : await openStore({ ...quiet, db });
    opened.push(storeA, storeB);
    expect(storeA.migrations?.applied).toEqual([]);
    expect(storeA.backend).toBe(h.name);
  });

  it('configuration: validated upsert with defaults, updated_at bumped, null when absent, CHECKs in the table', async () => {
    expect(await storeA.getUserConfig('cfg-user')).toBeNull();
    const first = await storeA.setUserConfig('cfg-user', { mode: 'aggressive', targetCompressionRatio: 0.9 });
    expect(first).toMatchObject({
      userId: 'cfg-user',
      enabled: true,
      mode: 'aggressive',
      targetCompressionRatio: 0.9,
      maxLatencyMs: 20,
      minQualityScore: null,
      modelType: null,
      useGpu: true,
      fallbackOnQualityLoss: true,
      optOut: false,
      dataRetentionHours: 720,
    });
    await new Promise((r) => setTimeout(r, 5));
    const second = await storeA.setUserConfig('cfg-user', { maxLatencyMs: Infinity, modelType: 'aic-image-v1', optOut: true });
    expect(second).toMatchObject({ mode: 'aggressive', targetCompressionRatio: 0.9, maxLatencyMs: Infinity, modelType: 'aic-image-v1', optOut: true });
    expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
    expect(second.createdAt.getTime()).toBe(first.createdAt.getTime());
    expect(await storeA.getUserConfig('cfg-user')).toEqual(second);
    // Cached: a second read is a hit. (Not of cfg-user: the store's own notification of the change
    // above may still be on its way and drop that entry.)
    await storeA.getUserConfig('cfg-never-set');
    const { hits, misses } = storeA.stats().configCache;
    expect(await storeA.getUserConfig('cfg-never-set')).toBeNull();
    expect(storeA.stats().configCache).toMatchObject({ hits: hits + 1, misses });

    for (const bad of [
      { mode: 'turbo' },
      { targetCompressionRatio: 1 },
      { targetCompressionRatio: -0.1 },
      { minQualityScore: 1.5 },
      { maxLatencyMs: 0 },
      { maxLatencyMs: Number.NaN },
      { dataRetentionHours: 0 },
      { dataRetentionHours: 1.5 },
      { enabled: 'yes' },
      { bogus: 1 },
    ]) {
      await expect(storeA.setUserConfig('cfg-user', bad as never), JSON.stringify(bad)).rejects.toBeInstanceOf(ConfigValidationError);
    }
    // The same rules hold in the table itself (CHECK constraints), for writers other than the store.
    for (const set of ["mode = 'turbo'", 'target_compression_ratio = 1', 'data_retention_hours = 0', "max_latency_ms = 'NaN'", 'min_quality_score = 2']) {
      const err = await rejection(asApp(db, 'cfg-user', (tx) => tx.query(`UPDATE aic_configs SET ${set}`)));
      expect(err.code, set).toBe('23514');
    }
    // An operator's UPDATE bumps updated_at too (trigger).
    await db.query(`UPDATE aic_configs SET updated_at = now() - interval '1 day' WHERE user_id = 'cfg-user'`);
    const before = (await storeA.withUser('cfg-user', (tx) => tx.query<{ updated_at: Date }>('SELECT updated_at FROM aic_configs'))).rows[0]!;
    expect(Date.now() - new Date(before.updated_at).getTime()).toBeLessThan(60_000);
  });

  it('two users: A never reads or changes B, enforced by the policies (withUser and direct SQL as aic_app)', async () => {
    const A = 'rls-alice';
    const B = 'rls-bob';
    for (const u of [A, B]) {
      await storeA.setUserConfig(u, { mode: 'conservative' });
      storeA.sessionOpened({ userId: u, sessionId: `s-${u}` });
      for (let i = 0; i < 3; i++) storeA.recordMetric({ userId: u, sessionId: `s-${u}`, frames: 1, bytesIn: 100, bytesOut: 20 });
      await storeA.raiseAlert({ userId: u, severity: 'warning', code: 'high_fallback_rate', message: `for ${u}` });
    }
    await storeA.raiseAlert({ severity: 'critical', code: 'high_inference_latency', message: 'system-wide' });
    await storeA.recordModelPerformance({ modelType: 'aic-image', windowStart: Date.now() - 60_000, windowEnd: Date.now(), successes: 10 });
    await storeA.flush();

    // Through withUser, with WHERE clauses naming B: nothing.
    await storeA.withUser(A, async (tx) => {
      expect((await tx.query('SELECT * FROM aic_configs WHERE user_id = $1', [B])).rows).toEqual([]);
      expect((await tx.query('SELECT * FROM aic_metrics WHERE user_id = $1', [B])).rows).toEqual([]);
      expect((await tx.query('SELECT * FROM aic_sessions WHERE user_id = $1', [B])).rows).toEqual([]);
      expect((await tx.query(`UPDATE aic_configs SET mode = 'off' WHERE user_id = $1`, [B])).rowCount).toBe(0);
      expect((await tx.query('UPDATE aic_sessions SET mode_changes = 99 WHERE user_id = $1', [B])).rowCount).toBe(0);
      expect((await tx.query('DELETE FROM aic_metrics WHERE user_id = $1', [B])).rowCount).toBe(0);
      expect((await tx.query('DELETE FROM aic_configs WHERE user_id = $1', [B])).rowCount).toBe(0);
      expect((await tx.query('UPDATE aic_alerts SET resolved_at = now() WHERE user_id = $1', [B])).rowCount).toBe(0);
    });
    // Inserting a row for B while scoped as A: refused by the policies' WITH CHECK.
    for (const insert of [
      `INSERT INTO aic_configs (user_id) VALUES ('${B}')`,
      `INSERT INTO aic_metrics (user_id, ts) VALUES ('${B}', now())`,
      `INSERT INTO aic_sessions (user_id, session_id) VALUES ('${B}', 'forged')`,
      `UPDATE aic_configs SET user_id = '${B}'`, // moving A's own row to B
    ]) {
      const err = await rejection(storeA.withUser(A, (tx) => tx.query(insert)));
      expect(err.code, insert).toBe('42501');
      expect(err.message).toMatch(/row-level security/);
    }
    // Alerts are raised by the system only.
    expect((await rejection(storeA.withUser(A, (tx) => tx.query(`INSERT INTO aic_alerts (user_id, severity, code, message) VALUES ('${A}', 'info', 'x', 'y')`)))).code).toBe('42501');

    // Direct SQL under SET ROLE aic_app, with no WHERE at all: the policy alone does it.
    await asApp(db, A, async (tx) => {
      expect((await tx.query<{ user_id: string }>('SELECT user_id FROM aic_configs')).rows.map((r) => r.user_id)).toEqual([A]);
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_metrics')).toBe(3);
      expect((await tx.query<{ user_id: string }>('SELECT DISTINCT user_id FROM aic_sessions')).rows.map((r) => r.user_id)).toEqual([A]);
      expect((await tx.query<{ message: string }>('SELECT message FROM aic_alerts')).rows.map((r) => r.message)).toEqual([`for ${A}`]);
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_model_performance')).toBeGreaterThan(0); // system-wide rows: readable
      expect((await rejection(tx.query(`INSERT INTO aic_model_performance (model_type, window_start, window_end) VALUES ('m', now(), now() + interval '1 s')`))).code).toBe('42501');
    });
    expect(await asApp(db, A, async (tx) => (await tx.query('DELETE FROM aic_metrics')).rowCount)).toBe(3); // only A's (rolled back)
    expect(await asApp(db, A, async (tx) => (await tx.query(`UPDATE aic_configs SET mode = 'off'`)).rowCount)).toBe(1);
    // aic_app with no user set sees nothing.
    await asApp(db, null, async (tx) => {
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_configs')).toBe(0);
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_metrics')).toBe(0);
    });
    // B is untouched.
    expect(await storeA.getUserConfig(B)).toMatchObject({ mode: 'conservative' });
    await storeA.withUser(B, async (tx) => {
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_metrics')).toBe(3);
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_sessions WHERE mode_changes = 99')).toBe(0);
    });
    expect((await storeA.listAlerts(A)).map((a) => a.message)).toEqual([`for ${A}`]);
    expect(await storeA.resolveAlert((await storeA.listAlerts(B))[0]!.id, A)).toBe(false); // B's alert, as A

    // Without the role switch the login's own rights apply: a superuser (this test cluster's
    // postgres, PGlite's only user) bypasses row-level security; any other owner sees nothing (FORCE).
    const su = (await db.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user')).rows[0]!.su;
    expect(await count(db, `SELECT count(*) AS n FROM aic_configs WHERE user_id IN ('${A}', '${B}')`)).toBe(su ? 2 : 0);
  });

  it.skipIf(h.name !== 'postgres')('a table owner that is not a superuser sees no row without the role switch (FORCE ROW LEVEL SECURITY)', async () => {
    const su = (await admin!.query<{ su: boolean }>('SELECT rolsuper AS su FROM pg_roles WHERE rolname = current_user')).rows[0]!.su;
    if (!su) return; // needs to make a login role
    const owner = `aic_owner_${process.pid}`;
    await admin!.query(`CREATE ROLE ${owner} LOGIN CREATEROLE`);
    madeRoles.push(owner);
    const ownerUrl = await createDatabase(owner);
    const store = await openStore({ ...quiet, databaseUrl: ownerUrl });
    opened.push(store);
    expect(store.migrations?.applied).toEqual([1, 2, 3]);
    await store.setUserConfig('owned-user', { mode: 'aggressive' });
    const raw = await openDb({ databaseUrl: ownerUrl });
    opened.push(raw);
    expect((await raw.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).toBe(owner);
    expect(await count(raw, 'SELECT count(*) AS n FROM aic_configs')).toBe(0);
    expect((await raw.query(`UPDATE aic_configs SET mode = 'off'`)).rowCount).toBe(0);
    // The owner is a member of aic_app and aic_system (to switch to them) but does not inherit
    // their policies: with the user set and no SET ROLE, still nothing.
    expect(await rolledBack(raw, async (tx) => {
      await tx.query(`SELECT set_config('aic.user_id', 'owned-user', true)`);
      return count(tx, 'SELECT count(*) AS n FROM aic_configs');
    })).toBe(0);
    expect(await withUser(raw, 'owned-user', (tx) => count(tx, 'SELECT count(*) AS n FROM aic_configs'))).toBe(1);
  });

  it('config cache: invalidated across replicas by NOTIFY aic_config_changed (setUserConfig, psql, reconnects)', async () => {
    const u = 'cache-user';
    expect(await storeB.getUserConfig(u)).toBeNull(); // B caches "no config"
    expect(await storeB.getUserConfig(u)).toBeNull();
    const { hits } = storeB.stats().configCache;
    expect(hits).toBeGreaterThan(0);

    await storeA.setUserConfig(u, { mode: 'conservative' });
    await waitFor(async () => (await storeB.getUserConfig(u))?.mode === 'conservative', 'replica B to see the new mode');

    // An operator's UPDATE in psql (no store involved) reaches both through the trigger.
    await db.query(`UPDATE aic_configs SET mode = 'off' WHERE user_id = '${u}'`);
    await waitFor(async () => (await storeB.getUserConfig(u))?.mode === 'off', 'replica B to see the operator change');
    await waitFor(async () => (await storeA.getUserConfig(u))?.mode === 'off', 'replica A to see the operator change');

    // '*' drops every entry; a rolled-back change announces nothing.
    const inv = storeB.stats().configCache.invalidations;
    await db.query(`NOTIFY aic_config_changed, '*'`);
    await waitFor(() => storeB.stats().configCache.invalidations > inv, 'the * notification');
    expect(storeB.stats().configCache.entries).toBe(0);

    if (h.name === 'postgres') {
      // The listening connection dies: it reconnects, drops the cache (notifications may have been
      // missed), and notifications flow again.
      await storeB.getUserConfig(u);
      const killed = await count(
        db,
        `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '%listener'`,
      );
      expect(killed).toBe(2); // storeA's and storeB's
      await waitFor(() => storeB.stats().configCache.entries === 0, 'the cache to be dropped after the reconnect');
      await storeA.setUserConfig(u, { mode: 'adaptive' });
      await waitFor(async () => (await storeB.getUserConfig(u))?.mode === 'adaptive', 'notifications after the reconnect');
    }
  });

  it('batching: recordMetric and session calls only enqueue; flush writes them in few statements', async () => {
    const s = spy(db);
    const store = await openStore({ ...quiet, db: s.db, migrate: false, batchSize: 250 });
    opened.push(store);
    s.log.length = 0;
    for (let i = 0; i < 1000; i++) {
      expect(store.recordMetric({ userId: 'batch-user', sessionId: 'b1', ts: Date.now() - i, frames: 2, fallbacks: 1, bytesIn: 1000, bytesOut: 100, qualityScore: 0.9, latencyMs: 5, compressionRatio: 0.9, frameType: 'video', mode: 'adaptive' })).toBe(true);
    }
    for (let i = 0; i < 10; i++) store.sessionOpened({ userId: 'batch-user', sessionId: `bs-${i}`, mode: 'adaptive' });
    for (let k = 1; k <= 5; k++) {
      for (let i = 0; i < 10; i++) store.sessionUpdated({ userId: 'batch-user', sessionId: `bs-${i}`, framesProcessed: k * 10, framesCompressed: k * 9, framesFallback: k, bytesIn: k * 1000, bytesOut: k * 100, modeChanges: k });
    }
    expect(s.log).toEqual([]); // nothing written synchronously
    expect(store.stats().queue).toMatchObject({ queuedMetrics: 1000, dirtySessions: 10, trackedSessions: 10 });
    await store.flush();
    expect(s.count(/INSERT INTO aic_metrics/)).toBe(4); // 1000 rows / batchSize 250
    expect(s.count(/INSERT INTO aic_sessions/)).toBe(1); // 60 calls, 10 sessions, one upsert
    expect(store.stats().queue).toMatchObject({ queuedMetrics: 0, dirtySessions: 0, writtenMetrics: 1000, writtenSessions: 10, droppedMetrics: 0 });
    await storeA.withUser('batch-user', async (tx) => {
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_metrics')).toBe(1000);
      const rows = (await tx.query<Record<string, unknown>>('SELECT * FROM aic_sessions ORDER BY session_id')).rows;
      expect(rows).toHaveLength(10);
      expect(rows[0]).toMatchObject({ mode: 'adaptive', ended_at: null });
      expect(Number(rows[0]!.frames_processed)).toBe(50);
      expect(Number(rows[0]!.bandwidth_saved_bytes)).toBe(4500);
      expect(Number(rows[0]!.mode_changes)).toBe(5);
    });

    // Closing sessions: one more upsert; closed sessions are then no longer tracked.
    for (let i = 0; i < 10; i++) store.sessionClosed({ userId: 'batch-user', sessionId: `bs-${i}`, framesProcessed: 60, framesCompressed: 54, framesFallback: 6 });
    await store.flush();
    expect(store.stats().queue.trackedSessions).toBe(0);
    expect(await storeA.withUser('batch-user', (tx) => count(tx, 'SELECT count(*) AS n FROM aic_sessions WHERE ended_at IS NOT NULL AND frames_processed = 60'))).toBe(10);

    // The timer and the batch size start writes on their own.
    const timed = await openStore({ ...quiet, db, migrate: false, flushIntervalMs: 50 });
    opened.push(timed);
    for (let i = 0; i < 5; i++) timed.recordMetric({ userId: 'timer-user' });
    await waitFor(async () => (await storeA.withUser('timer-user', (tx) => count(tx, 'SELECT count(*) AS n FROM aic_metrics'))) === 5, 'the interval flush');
    const sized = await openStore({ ...quiet, db, migrate: false, batchSize: 20 });
    opened.push(sized);
    for (let i = 0; i < 20; i++) sized.recordMetric({ userId: 'size-user' });
    await waitFor(async () => (await storeA.withUser('size-user', (tx) => count(tx, 'SELECT count(*) AS n FROM aic_metrics'))) === 20, 'the batch-size flush');
  });

  it('bounded queue: when full the oldest rows are dropped and counted; invalid rows refused; failed writes retried', async () => {
    const s = spy(db);
    const store = await openStore({ ...quiet, db: s.db, migrate: false, maxQueuedMetrics: 100, batchSize: 1000 });
    opened.push(store);
    const t0 = Date.UTC(2030, 0, 1);
    for (let i = 0; i < 150; i++) expect(store.recordMetric({ userId: 'bound-user', ts: t0 + i * 1000 })).toBe(true);
    expect(store.stats().queue).toMatchObject({ queuedMetrics: 100, droppedMetrics: 50 });
    await store.flush();
    await storeA.withUser('bound-user', async (tx) => {
      const r = (await tx.query<{ n: unknown; first: Date }>('SELECT count(*) AS n, min(ts) AS first FROM aic_metrics')).rows[0]!;
      expect(Number(r.n)).toBe(100);
      expect(new Date(r.first).getTime()).toBe(t0 + 50_000); // the 50 oldest went
    });

    // Values the table would refuse are refused at once, never thrown.
    expect(store.recordMetric({ userId: '' })).toBe(false);
    expect(store.recordMetric({ userId: 'bound-user', compressionRatio: 1.5 })).toBe(false);
    expect(store.recordMetric({ userId: 'bound-user', qualityScore: -1 })).toBe(false);
    expect(store.recordMetric({ userId: 'bound-user', frames: 2, fallbacks: 3 })).toBe(false);
    expect(store.recordMetric({ userId: 'bound-user', frameType: 'hologram' as never })).toBe(false);
    expect(store.recordMetric(null as never)).toBe(false);
    expect(store.sessionUpdated({ userId: 'bound-user', sessionId: 'x', framesProcessed: 1, framesCompressed: 2 })).toBe(false);
    expect(store.stats().queue.rejectedRows).toBe(7);

    // A write that fails as a lost connection would: the rows stay queued and go out next time.
    for (let i = 0; i < 10; i++) store.recordMetric({ userId: 'retry-user' });
    s.failNextTransactions(1);
    await expect(store.flush()).rejects.toThrow(/simulated/);
    expect(store.stats().queue).toMatchObject({ queuedMetrics: 10, failedWrites: 1 });
    await store.flush();
    expect(await storeA.withUser('retry-user', (tx) => count(tx, 'SELECT count(*) AS n FROM aic_metrics'))).toBe(10);
  });

  it('userMetrics: totals and a bucketed series over the range, of that user only', async () => {
    const t0 = Date.UTC(2031, 5, 1, 12, 0, 0);
    const store = await openStore({ ...quiet, db, migrate: false });
    opened.push(store);
    for (const [minute, frames, fallbacks, inB, outB, q, lat] of [
      [0, 10, 1, 10_000, 2_000, 0.9, 10],
      [0, 10, 0, 10_000, 1_000, 0.8, 20],
      [2, 20, 2, 20_000, 4_000, 0.95, 5],
    ] as const) {
      store.recordMetric({ userId: 'm-user', sessionId: 'ms', ts: t0 + minute * 60_000 + 1000, frames, fallbacks, bytesIn: inB, bytesOut: outB, qualityScore: q, latencyMs: lat });
    }
    store.recordMetric({ userId: 'm-other', ts: t0 + 1000, frames: 1000, bytesIn: 1, bytesOut: 1 });
    store.recordMetric({ userId: 'm-user', ts: t0 + 3_600_000, frames: 1 }); // outside [from, to)
    store.sessionOpened({ userId: 'm-user', sessionId: 'ms', startedAt: t0 });
    await store.flush();
    const m = await store.userMetrics('m-user', { from: t0, to: t0 + 600_000 });
    expect(m.bucketSeconds).toBe(60);
    expect(m.totals).toMatchObject({ samples: 3, frames: 40, fallbacks: 3, bytesIn: 40_000, bytesOut: 7_000, bandwidthSavedBytes: 33_000 });
    expect(m.totals.fallbackRate).toBeCloseTo(3 / 40, 10);
    expect(m.totals.compressionRatio).toBeCloseTo(1 - 7_000 / 40_000, 10);
    expect(m.totals.qualityScore).toBeCloseTo((9 + 8 + 19) / 40, 10);
    expect(m.totals.latencyMs).toBeCloseTo((100 + 200 + 100) / 40, 10);
    expect(m.sessions).toEqual({ total: 1, active: 1, modeChanges: 0 });
    expect(m.series.map((b) => [b.start.getTime(), b.frames])).toEqual([
      [t0, 20],
      [t0 + 120_000, 20],
    ]);
    expect(m.series[0]!.compressionRatio).toBeCloseTo(1 - 3_000 / 20_000, 10);
    const empty = await store.userMetrics('nobody', { from: t0, to: t0 + 600_000 });
    expect(empty.totals).toMatchObject({ samples: 0, frames: 0, compressionRatio: null, qualityScore: null, fallbackRate: null });
    expect(empty.series).toEqual([]);
    await expect(store.userMetrics('m-user', { from: t0, to: t0 })).rejects.toThrow(/after/);
    await expect(store.userMetrics('m-user', { from: t0, to: t0 + 86_400_000, bucketSeconds: 1 })).rejects.toThrow(/maxBuckets/);
  });

  it('model performance and alerts', async () => {
    const w = { modelType: 'aic-audio', modelVersion: '1', windowStart: Date.UTC(2032, 0, 1), windowEnd: Date.UTC(2032, 0, 1, 0, 5) };
    await storeA.recordModelPerformance({ ...w, successes: 90, failures: 1, fallbacks: 9, p50LatencyMs: 5, p95LatencyMs: 9, p99LatencyMs: 12, avgQualityScore: 0.9 });
    await storeA.recordModelPerformance({ ...w, successes: 95, failures: 0, fallbacks: 5 }); // same window: replaced
    await storeA.recordModelPerformance({ ...w, replica: 'pod-2', successes: 1 }); // another replica's row
    const rows = await storeB.modelPerformance({ modelType: 'aic-audio' });
    expect(rows.map((r) => [r.replica, r.successes, r.fallbacks])).toEqual([
      ['', 95, 5],
      ['pod-2', 1, 0],
    ]);
    await expect(storeA.recordModelPerformance({ ...w, p50LatencyMs: 10, p95LatencyMs: 5 })).rejects.toThrow(/p50 <= p95/);

    const own = await storeA.raiseAlert({ userId: 'alert-user', severity: 'critical', code: 'high_inference_latency', message: 'p95 41 ms', details: { p95: 41 } });
    expect(own).toMatchObject({ userId: 'alert-user', severity: 'critical', details: { p95: 41 }, resolvedAt: null });
    expect((await storeB.listAlerts('alert-user')).map((a) => a.id)).toEqual([own.id]);
    expect(await storeB.resolveAlert(own.id, 'alert-user')).toBe(true);
    expect(await storeB.resolveAlert(own.id, 'alert-user')).toBe(false);
    expect(await storeB.listAlerts('alert-user')).toEqual([]);
    expect((await storeB.listAlerts('alert-user', { includeResolved: true }))[0]!.resolvedAt).toBeInstanceOf(Date);
    const system = await storeA.listSystemAlerts({ userId: null });
    expect(system.every((a) => a.userId === null)).toBe(true);
    expect(system.length).toBeGreaterThan(0);
    await expect(storeA.raiseAlert({ severity: 'fatal' as never, code: 'x', message: 'y' })).rejects.toThrow(/severity/);
  });

  it('retention deletes rows older than each user’s data_retention_hours, and only those', async () => {
    const store = await openStore({ ...quiet, db, migrate: false, defaultRetentionHours: 720 });
    opened.push(store);
    await store.setUserConfig('ret-short', { dataRetentionHours: 24 });
    await store.setUserConfig('ret-long', { dataRetentionHours: 1000 });
    const now = Date.now();
    for (const u of ['ret-short', 'ret-default', 'ret-long']) {
      for (const age of [1, 48, 800]) store.recordMetric({ userId: u, sessionId: `age-${age}`, ts: now - age * HOUR });
      store.sessionOpened({ userId: u, sessionId: 'closed-48h', startedAt: now - 50 * HOUR });
      store.sessionClosed({ userId: u, sessionId: 'closed-48h', endedAt: now - 48 * HOUR });
      store.sessionOpened({ userId: u, sessionId: 'open', startedAt: now - 100 * HOUR }); // still open: written now
    }
    await store.flush();
    const report = await store.sweepRetention();
    expect(report).toEqual({ metricsDeleted: 3, sessionsDeleted: 1, skipped: false });
    const left = async (u: string) =>
      store.withUser(u, async (tx) => ({
        metrics: (await tx.query<{ session_id: string }>('SELECT session_id FROM aic_metrics ORDER BY ts DESC')).rows.map((r) => r.session_id),
        sessions: (await tx.query<{ session_id: string }>('SELECT session_id FROM aic_sessions ORDER BY session_id')).rows.map((r) => r.session_id),
      }));
    expect(await left('ret-short')).toEqual({ metrics: ['age-1'], sessions: ['open'] });
    expect(await left('ret-default')).toEqual({ metrics: ['age-1', 'age-48'], sessions: ['closed-48h', 'open'] });
    expect(await left('ret-long')).toEqual({ metrics: ['age-1', 'age-48', 'age-800'], sessions: ['closed-48h', 'open'] });
    expect(await store.sweepRetention()).toEqual({ metricsDeleted: 0, sessionsDeleted: 0, skipped: false });
    // Counting from a later time, in small batches: the 24 h user loses the rest.
    const later = await store.sweepRetention({ now: now + 30 * HOUR, batchSize: 1 });
    expect(later.metricsDeleted).toBeGreaterThanOrEqual(1);
    expect((await left('ret-short')).metrics).toEqual([]);
    expect(store.stats().retention.runs).toBe(3);

    if (h.name === 'postgres') {
      // Another replica sweeping (holding the lock): this one steps aside.
      const c = new pg.Client({ connectionString: url! });
      await c.connect();
      try {
        await c.query('BEGIN');
        await c.query('SELECT pg_advisory_xact_lock($1, $2)', [0x41494300, 2]);
        expect((await store.sweepRetention()).skipped).toBe(true);
        await c.query('ROLLBACK');
      } finally {
        await c.end();
      }
    }
  });

  it('close() flushes what is queued, then refuses work', async () => {
    const store = await openStore({ ...quiet, db, migrate: false });
    for (let i = 0; i < 7; i++) store.recordMetric({ userId: 'close-user' });
    store.sessionOpened({ userId: 'close-user', sessionId: 'c1' });
    store.sessionClosed({ userId: 'close-user', sessionId: 'c1', framesProcessed: 3 });
    await store.close();
    await storeA.withUser('close-user', async (tx) => {
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_metrics')).toBe(7);
      expect(await count(tx, 'SELECT count(*) AS n FROM aic_sessions WHERE ended_at IS NOT NULL AND frames_processed = 3')).toBe(1);
    });
    expect(store.recordMetric({ userId: 'close-user' })).toBe(false);
    expect(store.stats().queue.droppedMetrics).toBe(1);
    await expect(store.getUserConfig('close-user')).rejects.toThrow(/closed/);
    await store.close(); // twice is fine
    // The shared database is still open.
    expect(await count(db, 'SELECT 1 AS n')).toBe(1);
  });
}

describe('store on PGlite (embedded)', () => {
  suite({
    name: 'pglite',
    fresh: async () => ({ db: await openDb(), url: null }),
  });

  it('a data directory keeps the database across restarts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'aic-pglite-'));
    try {
      const first = await openStore({ ...quiet, dataDir: dir });
      expect(first.migrations?.applied).toEqual([1, 2, 3]);
      await first.setUserConfig('durable-user', { mode: 'aggressive' });
      first.recordMetric({ userId: 'durable-user', frames: 3 });
      await first.close();
      const second = await openStore({ ...quiet, dataDir: dir });
      try {
        expect(second.migrations).toEqual({ applied: [], alreadyApplied: [1, 2, 3], unknown: [] });
        expect(await second.getUserConfig('durable-user')).toMatchObject({ mode: 'aggressive' });
        expect((await second.userMetrics('durable-user', { from: 0, to: Date.now() + 1000 })).totals.frames).toBe(3);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!server)('store on PostgreSQL', () => {
  suite({
    name: 'postgres',
    fresh: async () => {
      const url = await createDatabase();
      return { db: await openDb({ databaseUrl: url }), url };
    },
  });
});
