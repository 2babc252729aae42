// What GET /api/v1/aic/metrics answers: one user's aggregates over a time range, and the same
// aggregates per time bucket for a dashboard's chart. Runs inside withUser(), so the policies
// keep it to that user's rows whatever the WHERE clause says.
import { num, numOrNull, type Tx } from './db.js';

export interface MetricsRange {
  /** Start, inclusive (Date or epoch ms). */
  from: Date | number;
  /** End, exclusive (Date or epoch ms). */
  to: Date | number;
  /** Bucket width of the series; default: the smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 day, 1 week that gives at most maxBuckets. */
  bucketSeconds?: number;
  /** Most buckets in the series (default 200, at most 10 000). */
  maxBuckets?: number;
}

export interface MetricTotals {
  /** Metric rows. */
  samples: number;
  frames: number;
  fallbacks: number;
  /** fallbacks / frames; null without frames. */
  fallbackRate: number | null;
  bytesIn: number;
  bytesOut: number;
  /** bytesIn - bytesOut (negative when payloads outgrew the frames). */
  bandwidthSavedBytes: number;
  /**
   * 1 - bytesOut / bytesIn when the samples carry byte counts (the ratio of the traffic), else the
   * frame-weighted mean of the samples' ratios; null when neither is known.
   */
  compressionRatio: number | null;
  /** Frame-weighted mean quality score; null when no sample has one. */
  qualityScore: number | null;
  /** Frame-weighted mean latency; null when no sample has one. */
  latencyMs: number | null;
}

export interface MetricBucket extends MetricTotals {
  start: Date;
}

export interface UserMetrics {
  userId: string;
  from: Date;
  to: Date;
  bucketSeconds: number;
  totals: MetricTotals;
  /** Sessions that overlap the range: all of them, those still open, and their mode changes. */
  sessions: { total: number; active: number; modeChanges: number };
  /** Buckets that have samples, oldest first. */
  series: MetricBucket[];
}

const NICE_BUCKETS = [60, 300, 900, 3600, 21_600, 86_400, 604_800];

function ms(v: Date | number, what: string): number {
  const t = v instanceof Date ? v.getTime() : v;
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError(`${what} must be a Date or epoch milliseconds`);
  return t;
}

export function resolveRange(range: MetricsRange): { from: number; to: number; bucketSeconds: number } {
  if (range === null || typeof range !== 'object') throw new TypeError('range must be an object { from, to }');
  const from = ms(range.from, 'from');
  const to = ms(range.to, 'to');
  if (!(to > from)) throw new RangeError('to must be after from');
  const maxBuckets = range.maxBuckets ?? 200;
  if (!Number.isSafeInteger(maxBuckets) || maxBuckets < 1 || maxBuckets > 10_000) throw new RangeError('maxBuckets must be a whole number from 1 to 10000');
  const seconds = (to - from) / 1000;
  let bucketSeconds = range.bucketSeconds;
  if (bucketSeconds === undefined) {
    bucketSeconds = NICE_BUCKETS.find((b) => seconds / b <= maxBuckets) ?? Math.ceil(seconds / maxBuckets);
  } else if (!Number.isSafeInteger(bucketSeconds) || bucketSeconds < 1 || bucketSeconds > 0x7fffffff) {
    throw new RangeError('bucketSeconds must be a whole number of seconds >= 1');
  } else if (Math.ceil(seconds / bucketSeconds) > maxBuckets) {
    throw new RangeError(`bucketSeconds ${bucketSeconds} would give more than maxBuckets (${maxBuckets}) buckets over this range`);
  }
  return { from, to, bucketSeconds };
}

const AGGREGATES = `count(*) AS samples,
  COALESCE(sum(frames), 0) AS frames,
  COALESCE(sum(fallbacks), 0) AS fallbacks,
  COALESCE(sum(bytes_in), 0) AS bytes_in,
  COALESCE(sum(bytes_out), 0) AS bytes_out,
  sum(compression_ratio * frames) / NULLIF(sum(frames) FILTER (WHERE compression_ratio IS NOT NULL), 0) AS ratio_mean,
  sum(quality_score * frames) / NULLIF(sum(frames) FILTER (WHERE quality_score IS NOT NULL), 0) AS quality,
  sum(latency_ms * frames) / NULLIF(sum(frames) FILTER (WHERE latency_ms IS NOT NULL), 0) AS latency`;

type AggregateRow = Record<'samples' | 'frames' | 'fallbacks' | 'bytes_in' | 'bytes_out' | 'ratio_mean' | 'quality' | 'latency', unknown>;

function totals(r: AggregateRow): MetricTotals {
  const frames = num(r.frames);
  const fallbacks = num(r.fallbacks);
  const bytesIn = num(r.bytes_in);
  const bytesOut = num(r.bytes_out);
  return {
    samples: num(r.samples),
    frames,
    fallbacks,
    fallbackRate: frames > 0 ? fallbacks / frames : null,
    bytesIn,
    bytesOut,
    bandwidthSavedBytes: bytesIn - bytesOut,
    compressionRatio: bytesIn > 0 ? 1 - bytesOut / bytesIn : numOrNull(r.ratio_mean),
    qualityScore: numOrNull(r.quality),
    latencyMs: numOrNull(r.latency),
  };
}

/** Inside withUser(userId). */
export async function selectUserMetrics(tx: Tx, userId: string, range: MetricsRange): Promise<UserMetrics> {
  const { from, to, bucketSeconds } = resolveRange(range);
  const span = [userId, new Date(from).toISOString(), new Date(to).toISOString()];
  const where = 'WHERE user_id = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz';
  const all = await tx.query<AggregateRow>(`SELECT ${AGGREGATES} FROM aic_metrics ${where}`, span);
  const buckets = await tx.query<AggregateRow & { bucket: unknown }>(
    `SELECT floor(extract(epoch FROM ts) / $4::int)::float8 * $4::int AS bucket, ${AGGREGATES}
     FROM aic_metrics ${where} GROUP BY 1 ORDER BY 1`,
    [...span, bucketSeconds],
  );
  const sessions = await tx.query<Record<'total' | 'active' | 'mode_changes', unknown>>(
    `SELECT count(*) AS total, count(*) FILTER (WHERE ended_at IS NULL) AS active, COALESCE(sum(mode_changes), 0) AS mode_changes
     FROM aic_sessions
     WHERE user_id = $1 AND started_at < $3::timestamptz AND (ended_at IS NULL OR ended_at >= $2::timestamptz)`,
    span,
  );
  const s = sessions.rows[0]!;
  return {
    userId,
    from: new Date(from),
    to: new Date(to),
    bucketSeconds,
    totals: totals(all.rows[0]!),
    sessions: { total: num(s.total), active: num(s.active), modeChanges: num(s.mode_changes) },
    series: buckets.rows.map((r) => ({ start: new Date(num(r.bucket) * 1000), ...totals(r) })),
  };
}
