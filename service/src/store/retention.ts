// The retention sweep: deletes each user's aic_metrics and aic_sessions rows older than that
// user's data_retention_hours (aic_configs), or the store's default for users without a row.
// A session's age is that of its end, or of its last write while open.
//
// It runs as aic_system in batches of batchSize rows, one short transaction each, so it never
// holds many row locks for long. Each batch takes a transaction-level advisory lock with
// pg_try_advisory_xact_lock: when another replica is sweeping, this one stops (skipped: true)
// rather than racing it over the same rows.
import { num, type Db } from './db.js';
import { ADVISORY_LOCK_CLASS } from './migrate.js';
import { withSystem } from './with-user.js';

export const RETENTION_LOCK = 2;

export interface RetentionOptions {
  /** For users with no aic_configs row. */
  defaultRetentionHours: number;
  /** Rows per DELETE (default 5000). */
  batchSize?: number;
  /** The time to count ages from (default: the database's now()); for tests and back-fills. */
  now?: Date | number;
}

export interface RetentionReport {
  metricsDeleted: number;
  sessionsDeleted: number;
  /** Another replica held the sweep's lock. */
  skipped: boolean;
}

const DELETE_METRICS = `DELETE FROM aic_metrics WHERE id IN (
  SELECT m.id FROM aic_metrics m LEFT JOIN aic_configs c ON c.user_id = m.user_id
  WHERE m.ts < COALESCE($1::timestamptz, now()) - make_interval(hours => COALESCE(c.data_retention_hours, $2::int))
  LIMIT $3)`;

const DELETE_SESSIONS = `DELETE FROM aic_sessions WHERE (user_id, session_id) IN (
  SELECT s.user_id, s.session_id FROM aic_sessions s LEFT JOIN aic_configs c ON c.user_id = s.user_id
  WHERE COALESCE(s.ended_at, s.updated_at) < COALESCE($1::timestamptz, now()) - make_interval(hours => COALESCE(c.data_retention_hours, $2::int))
  LIMIT $3)`;

export async function sweepRetention(db: Db, options: RetentionOptions): Promise<RetentionReport> {
  const hours = options.defaultRetentionHours;
  if (!Number.isSafeInteger(hours) || hours < 1 || hours > 87_600) throw new RangeError('defaultRetentionHours must be a whole number from 1 to 87600');
  const batch = options.batchSize ?? 5000;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new RangeError('batchSize must be a whole number >= 1');
  const now = options.now === undefined ? null : new Date(options.now instanceof Date ? options.now.getTime() : options.now).toISOString();
  const report: RetentionReport = { metricsDeleted: 0, sessionsDeleted: 0, skipped: false };
  for (const [sql, key] of [[DELETE_METRICS, 'metricsDeleted'], [DELETE_SESSIONS, 'sessionsDeleted']] as const) {
    for (;;) {
      const n = await withSystem(db, async (tx) => {
        const got = await tx.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1, $2) AS locked', [ADVISORY_LOCK_CLASS, RETENTION_LOCK]);
        if (!got.rows[0]?.locked) return null;
        return (await tx.query(sql, [now, hours, batch])).rowCount;
      });
      if (n === null) {
        report.skipped = true;
        return report;
      }
      report[key] += num(n);
      if (n < batch) break;
    }
  }
  return report;
}
