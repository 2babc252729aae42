// aic_alerts: raised by the service (aic_system) for one user or, with no user, for operators.
// A user reads and resolves only that user's alerts (policies of migration 002).
import { num, type Tx } from './db.js';
import { optText, text, time } from './values.js';
import { checkUserId } from './with-user.js';

export type AlertSeverity = 'info' | 'warning' | 'critical';
const SEVERITIES: readonly string[] = ['info', 'warning', 'critical'];

export interface NewAlert {
  /** The user it concerns; null or absent: a system-wide alert, for operators only. */
  userId?: string | null;
  sessionId?: string | null;
  severity: AlertSeverity;
  /** A stable name: [a-z][a-z0-9_]*, e.g. high_inference_latency, high_fallback_rate. */
  code: string;
  message: string;
  /** Anything JSON (figures, thresholds); never frame content. */
  details?: Record<string, unknown> | null;
}

export interface Alert {
  id: number;
  userId: string | null;
  sessionId: string | null;
  severity: AlertSeverity;
  code: string;
  message: string;
  details: Record<string, unknown> | null;
  createdAt: Date;
  resolvedAt: Date | null;
}

export interface AlertQuery {
  /** Also alerts already resolved (default false). */
  includeResolved?: boolean;
  /** Created at or after (Date or epoch ms). */
  since?: Date | number;
  /** Most alerts, newest first (default 100, at most 10 000). */
  limit?: number;
}

export interface SystemAlertQuery extends AlertQuery {
  /** A user's alerts only; null: system-wide alerts only; absent: all. */
  userId?: string | null;
}

function fromRow(r: Record<string, unknown>): Alert {
  return {
    id: num(r.id),
    userId: (r.user_id as string | null) ?? null,
    sessionId: (r.session_id as string | null) ?? null,
    severity: r.severity as AlertSeverity,
    code: r.code as string,
    message: r.message as string,
    details: (typeof r.details === 'string' ? JSON.parse(r.details) : r.details ?? null) as Record<string, unknown> | null,
    createdAt: new Date(r.created_at as Date),
    resolvedAt: r.resolved_at === null || r.resolved_at === undefined ? null : new Date(r.resolved_at as Date),
  };
}

export async function insertAlert(tx: Tx, a: NewAlert): Promise<Alert> {
  if (a === null || typeof a !== 'object') throw new TypeError('an alert must be an object');
  if (!SEVERITIES.includes(a.severity)) throw new TypeError(`severity must be one of ${SEVERITIES.join(', ')}`);
  if (typeof a.code !== 'string' || !/^[a-z][a-z0-9_]{0,63}$/.test(a.code)) throw new TypeError('code must match [a-z][a-z0-9_]{0,63}');
  const details = a.details === undefined || a.details === null ? null : JSON.stringify(a.details);
  const r = await tx.query<Record<string, unknown>>(
    `INSERT INTO aic_alerts (user_id, session_id, severity, code, message, details)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING *`,
    [
      a.userId === undefined || a.userId === null ? null : checkUserId(a.userId),
      optText(a.sessionId, 'sessionId'),
      a.severity,
      a.code,
      text(a.message, 'message', 2000),
      details,
    ],
  );
  return fromRow(r.rows[0]!);
}

export async function selectAlerts(tx: Tx, q: SystemAlertQuery = {}): Promise<Alert[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.userId === null) where.push('user_id IS NULL');
  else if (q.userId !== undefined) {
    params.push(checkUserId(q.userId));
    where.push(`user_id = $${params.length}`);
  }
  if (!q.includeResolved) where.push('resolved_at IS NULL');
  if (q.since !== undefined) {
    params.push(time(q.since, 'since', 0));
    where.push(`created_at >= $${params.length}::timestamptz`);
  }
  const limit = q.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 10_000) throw new RangeError('limit must be a whole number from 1 to 10000');
  params.push(limit);
  const r = await tx.query<Record<string, unknown>>(
    `SELECT * FROM aic_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  return r.rows.map(fromRow);
}

/** Marks the alert resolved (if it was open and is visible to the transaction's role). */
export async function resolveAlertById(tx: Tx, id: number): Promise<boolean> {
  if (!Number.isSafeInteger(id) || id < 1) throw new TypeError('alert id must be a whole number >= 1');
  const r = await tx.query('UPDATE aic_alerts SET resolved_at = GREATEST(now(), created_at) WHERE id = $1 AND resolved_at IS NULL', [id]);
  return r.rowCount > 0;
}
