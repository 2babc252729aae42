// aic_sessions rows: one per stream. The store keeps the latest state of each open session in
// memory and upserts the ones that changed, in batches (write-queue.ts): the frame path only
// updates an object.
import type { CompressionMode } from './config.js';
import type { Tx } from './db.js';
import { count, optMode, optMs, optRatio, optText, optUnit, RowError, text, time } from './values.js';
import { checkUserId } from './with-user.js';

export interface SessionKey {
  userId: string;
  sessionId: string;
}

export interface SessionStart extends SessionKey {
  participantId?: string | null;
  mode?: CompressionMode | null;
  /** Date or epoch ms; default: now. */
  startedAt?: Date | number;
}

/**
 * Totals so far (cumulative, as the library's session.stats() reports them: framesProcessed,
 * framesCompressed, framesFallback, bytesIn, bytesOut, modeChanges, and the means of
 * compressionRatio, latencyMs, qualityScore). Fields left out keep their last value.
 */
export interface SessionProgress extends SessionKey {
  participantId?: string | null;
  mode?: CompressionMode | null;
  framesProcessed?: number;
  framesCompressed?: number;
  framesFallback?: number;
  avgCompressionRatio?: number | null;
  avgLatencyMs?: number | null;
  avgQualityScore?: number | null;
  bytesIn?: number;
  bytesOut?: number;
  modeChanges?: number;
  startedAt?: Date | number;
}

export interface SessionEnd extends SessionProgress {
  /** Date or epoch ms; default: now. */
  endedAt?: Date | number;
}

/** The row as written (bandwidth_saved_bytes is computed by the table: bytes_in - bytes_out). */
export interface SessionRow {
  userId: string;
  sessionId: string;
  participantId: string | null;
  mode: CompressionMode | null;
  framesProcessed: number;
  framesCompressed: number;
  framesFallback: number;
  avgCompressionRatio: number | null;
  avgLatencyMs: number | null;
  avgQualityScore: number | null;
  bytesIn: number;
  bytesOut: number;
  modeChanges: number;
  startedAt: string;
  endedAt: string | null;
}

export function sessionKey(k: SessionKey): string {
  let userId: string;
  try {
    userId = checkUserId(k?.userId);
  } catch (err) {
    throw new RowError((err as Error).message);
  }
  return `${userId}\u0000${text(k.sessionId, 'sessionId')}`;
}

export function newSessionRow(k: SessionKey, now: number): SessionRow {
  return {
    userId: k.userId,
    sessionId: k.sessionId,
    participantId: null,
    mode: null,
    framesProcessed: 0,
    framesCompressed: 0,
    framesFallback: 0,
    avgCompressionRatio: null,
    avgLatencyMs: null,
    avgQualityScore: null,
    bytesIn: 0,
    bytesOut: 0,
    modeChanges: 0,
    startedAt: new Date(now).toISOString(),
    endedAt: null,
  };
}

/**
 * The row with `u` applied, checked against aic_sessions' constraints; `row` is left as it was
 * when `u` is refused (RowError).
 */
export function applySession(row: SessionRow, u: SessionEnd, now: number, end: boolean): SessionRow {
  const has = (k: keyof SessionEnd) => u[k] !== undefined;
  const next: SessionRow = {
    ...row,
    participantId: has('participantId') ? optText(u.participantId, 'participantId') ?? row.participantId : row.participantId,
    mode: has('mode') ? optMode(u.mode) ?? row.mode : row.mode,
    framesProcessed: count(u.framesProcessed, 'framesProcessed', row.framesProcessed),
    framesCompressed: count(u.framesCompressed, 'framesCompressed', row.framesCompressed),
    framesFallback: count(u.framesFallback, 'framesFallback', row.framesFallback),
    avgCompressionRatio: has('avgCompressionRatio') ? optRatio(u.avgCompressionRatio, 'avgCompressionRatio') : row.avgCompressionRatio,
    avgLatencyMs: has('avgLatencyMs') ? optMs(u.avgLatencyMs, 'avgLatencyMs') : row.avgLatencyMs,
    avgQualityScore: has('avgQualityScore') ? optUnit(u.avgQualityScore, 'avgQualityScore') : row.avgQualityScore,
    bytesIn: count(u.bytesIn, 'bytesIn', row.bytesIn),
    bytesOut: count(u.bytesOut, 'bytesOut', row.bytesOut),
    modeChanges: count(u.modeChanges, 'modeChanges', row.modeChanges),
    startedAt: has('startedAt') ? time(u.startedAt, 'startedAt', now) : row.startedAt,
    endedAt: end ? time(u.endedAt, 'endedAt', now) : row.endedAt,
  };
  if (next.modeChanges > 0x7fffffff) throw new RowError('modeChanges must be below 2^31');
  if (next.framesCompressed > next.framesProcessed || next.framesFallback > next.framesProcessed) {
    throw new RowError('framesCompressed and framesFallback must not exceed framesProcessed');
  }
  // A clock that stepped back must not make ended_at precede started_at (a CHECK of the table).
  if (next.endedAt !== null && next.endedAt < next.startedAt) next.endedAt = next.startedAt;
  return next;
}

/**
 * One upsert for the whole batch (unnest over one array per column, like insertMetrics()). Rows
 * of one batch have distinct keys (one state per session). The counters are the latest totals;
 * started_at keeps the earliest seen, ended_at the latest given.
 */
export const UPSERT_SESSIONS = `INSERT INTO aic_sessions
  (user_id, session_id, participant_id, mode, frames_processed, frames_compressed, frames_fallback,
   avg_compression_ratio, avg_latency_ms, avg_quality_score, bytes_in, bytes_out, mode_changes,
   started_at, ended_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[], $7::int8[],
  $8::float8[], $9::float8[], $10::float8[], $11::int8[], $12::int8[], $13::int4[],
  $14::timestamptz[], $15::timestamptz[])
ON CONFLICT (user_id, session_id) DO UPDATE SET
  participant_id = COALESCE(EXCLUDED.participant_id, aic_sessions.participant_id),
  mode = COALESCE(EXCLUDED.mode, aic_sessions.mode),
  frames_processed = EXCLUDED.frames_processed,
  frames_compressed = EXCLUDED.frames_compressed,
  frames_fallback = EXCLUDED.frames_fallback,
  avg_compression_ratio = EXCLUDED.avg_compression_ratio,
  avg_latency_ms = EXCLUDED.avg_latency_ms,
  avg_quality_score = EXCLUDED.avg_quality_score,
  bytes_in = EXCLUDED.bytes_in,
  bytes_out = EXCLUDED.bytes_out,
  mode_changes = EXCLUDED.mode_changes,
  started_at = LEAST(aic_sessions.started_at, EXCLUDED.started_at),
  ended_at = COALESCE(EXCLUDED.ended_at, aic_sessions.ended_at),
  updated_at = now()`;

export async function upsertSessions(tx: Tx, rows: readonly SessionRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <K extends keyof SessionRow>(k: K) => rows.map((r) => r[k]);
  const r = await tx.query(UPSERT_SESSIONS, [
    col('userId'), col('sessionId'), col('participantId'), col('mode'), col('framesProcessed'), col('framesCompressed'),
    col('framesFallback'), col('avgCompressionRatio'), col('avgLatencyMs'), col('avgQualityScore'), col('bytesIn'),
    col('bytesOut'), col('modeChanges'), col('startedAt'), col('endedAt'),
  ]);
  return r.rowCount;
}
