// aic_model_performance: per model (and version), per time window, per replica; system-wide rows
// with no user data. Written by the service (aic_system); readable by aic_system and, by the
// decision recorded in migration 002, by any user-scoped transaction too.
import { num, numOrNull, type Tx } from './db.js';
import { count, optMs, optRatio, optText, optUnit, text, time } from './values.js';

export interface ModelPerformanceWindow {
  modelType: string;
  modelVersion?: string;
  /** The replica that measured it (default ''): several replicas write their own rows. */
  replica?: string;
  windowStart: Date | number;
  windowEnd: Date | number;
  successes?: number;
  failures?: number;
  fallbacks?: number;
  avgLatencyMs?: number | null;
  p50LatencyMs?: number | null;
  p95LatencyMs?: number | null;
  p99LatencyMs?: number | null;
  avgCompressionRatio?: number | null;
  avgQualityScore?: number | null;
}

export interface ModelPerformanceRow {
  id: number;
  modelType: string;
  modelVersion: string;
  replica: string;
  windowStart: Date;
  windowEnd: Date;
  successes: number;
  failures: number;
  fallbacks: number;
  avgLatencyMs: number | null;
  p50LatencyMs: number | null;
  p95LatencyMs: number | null;
  p99LatencyMs: number | null;
  avgCompressionRatio: number | null;
  avgQualityScore: number | null;
  recordedAt: Date;
}

export interface ModelPerformanceQuery {
  modelType?: string;
  modelVersion?: string;
  /** Windows starting at or after (Date or epoch ms). */
  from?: Date | number;
  /** Windows starting before. */
  to?: Date | number;
  /** Most rows, newest windows first (default 1000, at most 100 000). */
  limit?: number;
}

function fromRow(r: Record<string, unknown>): ModelPerformanceRow {
  return {
    id: num(r.id),
    modelType: r.model_type as string,
    modelVersion: r.model_version as string,
    replica: r.replica as string,
    windowStart: new Date(r.window_start as Date),
    windowEnd: new Date(r.window_end as Date),
    successes: num(r.successes),
    failures: num(r.failures),
    fallbacks: num(r.fallbacks),
    avgLatencyMs: numOrNull(r.avg_latency_ms),
    p50LatencyMs: numOrNull(r.p50_latency_ms),
    p95LatencyMs: numOrNull(r.p95_latency_ms),
    p99LatencyMs: numOrNull(r.p99_latency_ms),
    avgCompressionRatio: numOrNull(r.avg_compression_ratio),
    avgQualityScore: numOrNull(r.avg_quality_score),
    recordedAt: new Date(r.recorded_at as Date),
  };
}

/** Inserts the window, or replaces the counts of the same model, version, replica and window. */
export async function upsertModelPerformance(tx: Tx, w: ModelPerformanceWindow): Promise<ModelPerformanceRow> {
  if (w === null || typeof w !== 'object') throw new TypeError('a model performance window must be an object');
  const now = Date.now();
  const start = time(w.windowStart, 'windowStart', now);
  const end = time(w.windowEnd, 'windowEnd', now);
  if (!(end > start)) throw new RangeError('windowEnd must be after windowStart');
  const p50 = optMs(w.p50LatencyMs, 'p50LatencyMs');
  const p95 = optMs(w.p95LatencyMs, 'p95LatencyMs');
  const p99 = optMs(w.p99LatencyMs, 'p99LatencyMs');
  if ((p50 !== null && p95 !== null && p50 > p95) || (p95 !== null && p99 !== null && p95 > p99)) {
    throw new RangeError('latency percentiles must satisfy p50 <= p95 <= p99');
  }
  const r = await tx.query<Record<string, unknown>>(
    `INSERT INTO aic_model_performance
       (model_type, model_version, replica, window_start, window_end, successes, failures, fallbacks,
        avg_latency_ms, p50_latency_ms, p95_latency_ms, p99_latency_ms, avg_compression_ratio, avg_quality_score)
     VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6, $7, $8, $9, $10, $11, $12, $13, $14)
     ON CONFLICT (model_type, model_version, replica, window_start, window_end) DO UPDATE SET
       successes = EXCLUDED.successes, failures = EXCLUDED.failures, fallbacks = EXCLUDED.fallbacks,
       avg_latency_ms = EXCLUDED.avg_latency_ms, p50_latency_ms = EXCLUDED.p50_latency_ms,
       p95_latency_ms = EXCLUDED.p95_latency_ms, p99_latency_ms = EXCLUDED.p99_latency_ms,
       avg_compression_ratio = EXCLUDED.avg_compression_ratio, avg_quality_score = EXCLUDED.avg_quality_score,
       recorded_at = now()
     RETURNING *`,
    [
      text(w.modelType, 'modelType', 128),
      optText(w.modelVersion, 'modelVersion', 64) ?? '',
      optText(w.replica, 'replica', 128) ?? '',
      start,
      end,
      count(w.successes, 'successes', 0),
      count(w.failures, 'failures', 0),
      count(w.fallbacks, 'fallbacks', 0),
      optMs(w.avgLatencyMs, 'avgLatencyMs'),
      p50,
      p95,
      p99,
      optRatio(w.avgCompressionRatio, 'avgCompressionRatio'),
      optUnit(w.avgQualityScore, 'avgQualityScore'),
    ],
  );
  return fromRow(r.rows[0]!);
}

export async function selectModelPerformance(tx: Tx, q: ModelPerformanceQuery = {}): Promise<ModelPerformanceRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: string, v: unknown) => {
    params.push(v);
    where.push(cond.replace('?', `$${params.length}`));
  };
  if (q.modelType !== undefined) add('model_type = ?', text(q.modelType, 'modelType', 128));
  if (q.modelVersion !== undefined) add('model_version = ?', q.modelVersion);
  if (q.from !== undefined) add('window_start >= ?::timestamptz', time(q.from, 'from', 0));
  if (q.to !== undefined) add('window_start < ?::timestamptz', time(q.to, 'to', 0));
  const limit = q.limit ?? 1000;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) throw new RangeError('limit must be a whole number from 1 to 100000');
  params.push(limit);
  const r = await tx.query<Record<string, unknown>>(
    `SELECT * FROM aic_model_performance ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY window_start DESC, model_type, model_version, replica LIMIT $${params.length}`,
    params,
  );
  return r.rows.map(fromRow);
}
