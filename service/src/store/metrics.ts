// aic_metrics rows: the time series of a call/participant's stream, enqueued by the frame path
// and written in batches by the write queue (write-queue.ts).
import type { CompressionMode } from './config.js';
import type { Tx } from './db.js';
import { count, optMode, optMs, optRatio, optText, optUnit, RowError, text, time } from './values.js';
import { checkUserId } from './with-user.js';

export type FrameType = 'video' | 'audio' | 'screen' | 'data';
const FRAME_TYPES: readonly string[] = ['video', 'audio', 'screen', 'data'];

/**
 * One sample: one frame (frames 1, the default) or several frames of one stream summed up.
 * Ratio, quality and latency are means over the sample's frames; bytes are sums. Nothing of a
 * frame's content goes in.
 */
export interface MetricSample {
  userId: string;
  sessionId?: string | null;
  participantId?: string | null;
  /** When (Date or epoch ms); default: when recordMetric() was called. */
  ts?: Date | number;
  frameType?: FrameType | null;
  mode?: CompressionMode | null;
  modelType?: string | null;
  frames?: number;
  fallbacks?: number;
  /** 1 - bytesOut / bytesIn (below 1; negative when the payload outgrew the frame). */
  compressionRatio?: number | null;
  qualityScore?: number | null;
  latencyMs?: number | null;
  bytesIn?: number;
  bytesOut?: number;
}

/** A checked sample, as written. */
export interface MetricRow {
  userId: string;
  sessionId: string | null;
  participantId: string | null;
  ts: string;
  frameType: FrameType | null;
  mode: CompressionMode | null;
  modelType: string | null;
  frames: number;
  fallbacks: number;
  compressionRatio: number | null;
  qualityScore: number | null;
  latencyMs: number | null;
  bytesIn: number;
  bytesOut: number;
}

/** Throws RowError (a TypeError) when the sample would break a CHECK of aic_metrics. */
export function toMetricRow(s: MetricSample, now: number): MetricRow {
  if (s === null || typeof s !== 'object') throw new RowError('a metric sample must be an object');
  let userId: string;
  try {
    userId = checkUserId(s.userId);
  } catch (err) {
    throw new RowError((err as Error).message);
  }
  if (s.frameType !== undefined && s.frameType !== null && !FRAME_TYPES.includes(s.frameType)) {
    throw new RowError(`frameType must be one of ${FRAME_TYPES.join(', ')}`);
  }
  const frames = count(s.frames, 'frames', 1);
  if (frames === 0 || frames > 0x7fffffff) throw new RowError('frames must be from 1 to 2^31 - 1');
  const fallbacks = count(s.fallbacks, 'fallbacks', 0);
  if (fallbacks > frames) throw new RowError('fallbacks must not exceed frames');
  return {
    userId,
    sessionId: s.sessionId === undefined || s.sessionId === null ? null : text(s.sessionId, 'sessionId'),
    participantId: optText(s.participantId, 'participantId'),
    ts: time(s.ts, 'ts', now),
    frameType: (s.frameType ?? null) as FrameType | null,
    mode: optMode(s.mode),
    modelType: optText(s.modelType, 'modelType', 128),
    frames,
    fallbacks,
    compressionRatio: optRatio(s.compressionRatio, 'compressionRatio'),
    qualityScore: optUnit(s.qualityScore, 'qualityScore'),
    latencyMs: optMs(s.latencyMs, 'latencyMs'),
    bytesIn: count(s.bytesIn, 'bytesIn', 0),
    bytesOut: count(s.bytesOut, 'bytesOut', 0),
  };
}

/**
 * One statement for the whole batch: INSERT ... SELECT FROM unnest() over one array per column.
 * Unlike VALUES ($1, ...), ($15, ...) its text is the same for every batch size (one plan) and
 * it never meets the 65 535-parameter limit of the protocol.
 */
export const INSERT_METRICS = `INSERT INTO aic_metrics
  (user_id, session_id, participant_id, ts, frame_type, mode, model_type, frames, fallbacks,
   compression_ratio, quality_score, latency_ms, bytes_in, bytes_out)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
  $7::text[], $8::int4[], $9::int4[], $10::float8[], $11::float8[], $12::float8[], $13::int8[], $14::int8[])`;

export async function insertMetrics(tx: Tx, rows: readonly MetricRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const col = <K extends keyof MetricRow>(k: K) => rows.map((r) => r[k]);
  const r = await tx.query(INSERT_METRICS, [
    col('userId'), col('sessionId'), col('participantId'), col('ts'), col('frameType'), col('mode'), col('modelType'),
    col('frames'), col('fallbacks'), col('compressionRatio'), col('qualityScore'), col('latencyMs'), col('bytesIn'), col('bytesOut'),
  ]);
  return r.rowCount;
}
