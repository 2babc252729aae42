// The service's PostgreSQL layer. See service/README.md ("Database").
export { openStore, storeOptionsFromEnv, Store, CONFIG_CHANNEL, type StoreOptions, type StoreStats } from './store.js';
export { openDb, type OpenDbOptions } from './open-db.js';
export { openPostgres, type PostgresOptions } from './postgres.js';
export { openPglite, type PgliteOptions } from './pglite.js';
export { isPermanentError, sqlState, type Backend, type Db, type ListenOptions, type QueryResult, type Queryable, type Tx } from './db.js';
export { migrate, loadMigrations, DEFAULT_MIGRATIONS_DIR, type Migration, type MigrationReport } from './migrate.js';
export { withUser, withSystem, checkUserId, APP_ROLE, SYSTEM_ROLE } from './with-user.js';
export {
  ConfigValidationError,
  validateConfigPatch,
  DEFAULT_RETENTION_HOURS,
  MODES,
  type CompressionMode,
  type UserConfig,
  type UserConfigPatch,
} from './config.js';
export type { ConfigCacheStats } from './config-cache.js';
export type { FrameType, MetricSample } from './metrics.js';
export type { SessionKey, SessionStart, SessionProgress, SessionEnd } from './sessions.js';
export type { WriteQueueStats } from './write-queue.js';
export type { MetricsRange, MetricTotals, MetricBucket, UserMetrics } from './user-metrics.js';
export type { ModelPerformanceWindow, ModelPerformanceRow, ModelPerformanceQuery } from './model-performance.js';
export type { AlertSeverity, NewAlert, Alert, AlertQuery, SystemAlertQuery } from './alerts.js';
export type { RetentionReport } from './retention.js';
export { RowError } from './values.js';
