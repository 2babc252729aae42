// The service's store: what the HTTP and gRPC handlers call. openStore() opens the database
// (PostgreSQL when a URL is given, else the embedded PGlite), applies the migrations, LISTENs for
// configuration changes and starts the write-behind queue and the retention sweep.
//
// Configuration cache across replicas: every change to aic_configs (from this store, another
// replica, or psql) fires the trigger of migration 003, which NOTIFYs aic_config_changed with the
// user id; each store LISTENs and drops that user's cached entry. On PostgreSQL that reaches every
// replica (a dedicated listening connection; after it reconnects the whole cache is dropped, as
// notifications may have been missed). On PGlite it uses PGlite's own listen(), which delivers the
// notifications of the one instance to this process: all the replicas an embedded database can
// have are stores sharing that instance in one process (as the tests do).
//
// The embedded default (no databaseUrl) cannot serve several replicas, is not durable unless
// dataDir is given, and takes no connections from other processes (psql): see pglite.ts.
import { insertAlert, resolveAlertById, selectAlerts, type Alert, type AlertQuery, type NewAlert, type SystemAlertQuery } from './alerts.js';
import { DEFAULT_RETENTION_HOURS, selectConfig, upsertConfig, validateConfigPatch, type UserConfig, type UserConfigPatch } from './config.js';
import { ConfigCache, type ConfigCacheStats } from './config-cache.js';
import type { Backend, Db, Tx } from './db.js';
import { loadMigrations, migrate, type MigrationReport } from './migrate.js';
import type { MetricSample } from './metrics.js';
import { selectModelPerformance, upsertModelPerformance, type ModelPerformanceQuery, type ModelPerformanceRow, type ModelPerformanceWindow } from './model-performance.js';
import { openDb } from './open-db.js';
import { sweepRetention, type RetentionReport } from './retention.js';
import type { SessionEnd, SessionProgress, SessionStart } from './sessions.js';
import { selectUserMetrics, type MetricsRange, type UserMetrics } from './user-metrics.js';
import { checkUserId, withSystem, withUser } from './with-user.js';
import { WriteQueue, type WriteQueueStats } from './write-queue.js';

export const CONFIG_CHANNEL = 'aic_config_changed';

export interface StoreOptions {
  /** A PostgreSQL server (the service passes DATABASE_URL). Absent: the embedded PGlite. */
  databaseUrl?: string;
  /** PGlite only: keep the database in this folder (durable); absent: in memory. */
  dataDir?: string;
  /** Use this database instead of opening one (it is left open by close()). */
  db?: Db;
  /** Apply the migrations on open (default true). */
  migrate?: boolean;
  /** Folder of NNN_name.sql migrations (default service/migrations). */
  migrationsDir?: string;
  /** PostgreSQL pool size (default 10). */
  maxConnections?: number;
  /** Write queued metrics and sessions at least this often (default 1000 ms). */
  flushIntervalMs?: number;
  /** Rows per batch statement; this many waiting starts a write early (default 500). */
  batchSize?: number;
  /** Bound of the metric queue; past it the oldest rows are dropped and counted (default 10 000). */
  maxQueuedMetrics?: number;
  /** Sessions tracked at most (default 100 000). */
  maxTrackedSessions?: number;
  /** Run the retention sweep this often (default 1 h; 0: never on a timer, call sweepRetention()). */
  retentionSweepMs?: number;
  /** Retention of users without a configuration row (default 720 h = 30 days). */
  defaultRetentionHours?: number;
  /** Longest a cached configuration is trusted without a notification (default 5 min; 0: no cache). */
  configCacheTtlMs?: number;
  /** Most cached configurations (default 10 000). */
  configCacheMaxEntries?: number;
  /** Background errors (writes that will be retried, rows refused, lost LISTEN connections). Default: console.warn. */
  onError?: (err: Error, context: string) => void;
}

/** DATABASE_URL and AIC_DATA_DIR of an environment, as openStore() options. */
export function storeOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): Pick<StoreOptions, 'databaseUrl' | 'dataDir'> {
  const out: Pick<StoreOptions, 'databaseUrl' | 'dataDir'> = {};
  if (env.DATABASE_URL) out.databaseUrl = env.DATABASE_URL;
  else if (env.AIC_DATA_DIR) out.dataDir = env.AIC_DATA_DIR;
  return out;
}

export interface StoreStats {
  backend: Backend;
  queue: WriteQueueStats;
  configCache: ConfigCacheStats;
  retention: { runs: number; lastRunAt: Date | null; last: RetentionReport | null };
}

const defaultOnError = (err: Error, context: string) => console.warn(`[aic-store] ${context}: ${err.message}`);

export async function openStore(options: StoreOptions = {}): Promise<Store> {
  const onError = options.onError ?? defaultOnError;
  const ownDb = options.db === undefined;
  const db =
    options.db ??
    (await openDb({
      ...(options.databaseUrl !== undefined ? { databaseUrl: options.databaseUrl } : {}),
      ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
      ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      onError,
    }));
  let store: Store | undefined;
  try {
    const migrations = options.migrate === false ? null : await migrate(db, loadMigrations(options.migrationsDir));
    store = new Store(db, ownDb, options, onError, migrations);
    await store._listen();
    return store;
  } catch (err) {
    if (store) await store.close().catch(() => {});
    else if (ownDb) await db.close().catch(() => {});
    throw err;
  }
}

export class Store {
  readonly backend: Backend;
  /** What openStore()'s migration run did (null when it was told not to migrate). */
  readonly migrations: MigrationReport | null;
  readonly #db: Db;
  readonly #ownDb: boolean;
  readonly #onError: (err: Error, context: string) => void;
  readonly #cache: ConfigCache;
  readonly #queue: WriteQueue;
  readonly #defaultRetentionHours: number;
  readonly #retentionTimer: NodeJS.Timeout | null;
  #sweeping: Promise<RetentionReport> | null = null;
  #retention = { runs: 0, lastRunAt: null as Date | null, last: null as RetentionReport | null };
  #unlisten: (() => Promise<void>) | null = null;
  #closing: Promise<void> | null = null;

  /** @internal Use openStore(). */
  constructor(db: Db, ownDb: boolean, options: StoreOptions, onError: (err: Error, context: string) => void, migrations: MigrationReport | null) {
    this.#db = db;
    this.#ownDb = ownDb;
    this.backend = db.backend;
    this.migrations = migrations;
    this.#onError = onError;
    const every = options.retentionSweepMs ?? 3_600_000;
    if (typeof every !== 'number' || !(every >= 0) || every > 2_147_483_647) throw new RangeError('retentionSweepMs must be from 0 to 2^31 - 1 ms');
    this.#defaultRetentionHours = options.defaultRetentionHours ?? DEFAULT_RETENTION_HOURS;
    if (!Number.isSafeInteger(this.#defaultRetentionHours) || this.#defaultRetentionHours < 1 || this.#defaultRetentionHours > 87_600) {
      throw new RangeError('defaultRetentionHours must be a whole number from 1 to 87600');
    }
    this.#cache = new ConfigCache({
      ...(options.configCacheTtlMs !== undefined ? { ttlMs: options.configCacheTtlMs } : {}),
      ...(options.configCacheMaxEntries !== undefined ? { maxEntries: options.configCacheMaxEntries } : {}),
    });
    this.#queue = new WriteQueue(db, {
      ...(options.flushIntervalMs !== undefined ? { flushIntervalMs: options.flushIntervalMs } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.maxQueuedMetrics !== undefined ? { maxQueuedMetrics: options.maxQueuedMetrics } : {}),
      ...(options.maxTrackedSessions !== undefined ? { maxTrackedSessions: options.maxTrackedSessions } : {}),
      onError,
    });
    this.#retentionTimer = every > 0 ? setInterval(() => this.#backgroundSweep(), every) : null;
    this.#retentionTimer?.unref();
  }

  /** @internal */
  async _listen(): Promise<void> {
    this.#unlisten = await this.#db.listen(
      CONFIG_CHANNEL,
      (payload) => (payload === '*' || payload === '' ? this.#cache.clear() : this.#cache.invalidate(payload)),
      { onReconnect: () => this.#cache.clear() },
    );
  }

  #open(): void {
    if (this.#closing) throw new Error('store closed');
  }

  /** The only way user-scoped code reaches the tables: a transaction as aic_app for userId. */
  async withUser<T>(userId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.#open();
    return withUser(this.#db, userId, fn);
  }

  /** Round trip to the database (readiness checks). */
  async ping(): Promise<void> {
    this.#open();
    await this.#db.query('SELECT 1');
  }

  // ---- configuration ------------------------------------------------------------------------

  /** The user's configuration, or null when the user has none (cached). */
  async getUserConfig(userId: string): Promise<UserConfig | null> {
    this.#open();
    const id = checkUserId(userId);
    return this.#cache.get(id, () => withUser(this.#db, id, (tx) => selectConfig(tx, id)));
  }

  /**
   * Validates the patch (ConfigValidationError on an unknown field or a bad value) and upserts it:
   * the patched fields over the existing row, or over the defaults. updated_at is bumped and
   * every replica's cache is told (aic_config_changed). Returns the row as stored.
   */
  async setUserConfig(userId: string, patch: UserConfigPatch): Promise<UserConfig> {
    this.#open();
    const id = checkUserId(userId);
    const checked = validateConfigPatch(patch);
    const config = await withUser(this.#db, id, (tx) => upsertConfig(tx, id, checked));
    this.#cache.invalidate(id); // our own notification follows; this covers the time until it comes
    return config;
  }

  // ---- write-behind: sessions and metrics (never block, never throw) -------------------------

  /** Enqueues; false when refused (invalid values, too many sessions tracked, store closed). */
  sessionOpened(session: SessionStart): boolean {
    return this.#queue.session(session, 'open');
  }

  sessionUpdated(progress: SessionProgress): boolean {
    return this.#queue.session(progress, 'update');
  }

  sessionClosed(end: SessionEnd): boolean {
    return this.#queue.session(end, 'close');
  }

  /** Enqueues one sample; false when refused. When the queue is full the oldest row is dropped (counted). */
  recordMetric(sample: MetricSample): boolean {
    return this.#queue.recordMetric(sample);
  }

  /** Writes what is queued now. Rejects when a write failed (the rows stay queued for a retry). */
  flush(): Promise<void> {
    return this.#queue.flush();
  }

  // ---- reads ------------------------------------------------------------------------------

  /** GET /api/v1/aic/metrics: totals and a bucketed series of the user's metrics over [from, to). */
  async userMetrics(userId: string, range: MetricsRange): Promise<UserMetrics> {
    this.#open();
    const id = checkUserId(userId);
    return withUser(this.#db, id, (tx) => selectUserMetrics(tx, id, range));
  }

  // ---- model performance (system-wide) --------------------------------------------------------

  async recordModelPerformance(window: ModelPerformanceWindow): Promise<ModelPerformanceRow> {
    this.#open();
    return withSystem(this.#db, (tx) => upsertModelPerformance(tx, window));
  }

  async modelPerformance(query: ModelPerformanceQuery = {}): Promise<ModelPerformanceRow[]> {
    this.#open();
    return withSystem(this.#db, (tx) => selectModelPerformance(tx, query));
  }

  // ---- alerts -------------------------------------------------------------------------------

  async raiseAlert(alert: NewAlert): Promise<Alert> {
    this.#open();
    return withSystem(this.#db, (tx) => insertAlert(tx, alert));
  }

  /** The user's own alerts (never another user's, nor system-wide ones). */
  async listAlerts(userId: string, query: AlertQuery = {}): Promise<Alert[]> {
    this.#open();
    return withUser(this.#db, userId, (tx) => selectAlerts(tx, { ...query, userId }));
  }

  /** Operators: every alert, or one user's (userId), or the system-wide ones (userId: null). */
  async listSystemAlerts(query: SystemAlertQuery = {}): Promise<Alert[]> {
    this.#open();
    return withSystem(this.#db, (tx) => selectAlerts(tx, query));
  }

  /** Resolves an open alert; with userId, only one of that user's. False when nothing was resolved. */
  async resolveAlert(id: number, userId?: string): Promise<boolean> {
    this.#open();
    return userId === undefined
      ? withSystem(this.#db, (tx) => resolveAlertById(tx, id))
      : withUser(this.#db, userId, (tx) => resolveAlertById(tx, id));
  }

  // ---- retention ----------------------------------------------------------------------------

  /** Deletes rows past each user's data_retention_hours now (also run every retentionSweepMs). */
  async sweepRetention(options: { now?: Date | number; batchSize?: number } = {}): Promise<RetentionReport> {
    this.#open();
    if (this.#sweeping) return this.#sweeping;
    const p = sweepRetention(this.#db, { defaultRetentionHours: this.#defaultRetentionHours, ...options })
      .then((report) => {
        this.#retention = { runs: this.#retention.runs + 1, lastRunAt: new Date(), last: report };
        return report;
      })
      .finally(() => {
        this.#sweeping = null;
      });
    this.#sweeping = p;
    return p;
  }

  #backgroundSweep(): void {
    if (this.#closing || this.#sweeping) return;
    this.sweepRetention().catch((err: Error) => this.#onError(err, 'retention sweep'));
  }

  stats(): StoreStats {
    return { backend: this.backend, queue: this.#queue.stats(), configCache: this.#cache.stats(), retention: { ...this.#retention } };
  }

  /**
   * Stops the timers, writes what is queued, stops listening and closes the database it opened.
   * Rejects, after closing everything, when the last write failed (those rows are lost).
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      if (this.#retentionTimer) clearInterval(this.#retentionTimer);
      await this.#sweeping?.catch(() => {});
      let flushError: unknown;
      try {
        await this.#queue.close();
      } catch (err) {
        flushError = err;
      }
      await this.#unlisten?.().catch(() => {});
      if (this.#ownDb) await this.#db.close();
      if (flushError) throw flushError;
    })();
    return this.#closing;
  }
}
