// A user's AIC configuration (aic_configs): types, validation of a patch, and the two statements.
import { num, type Tx } from './db.js';

export type CompressionMode = 'off' | 'conservative' | 'adaptive' | 'aggressive';
export const MODES: readonly CompressionMode[] = ['off', 'conservative', 'adaptive', 'aggressive'];

export interface UserConfig {
  userId: string;
  enabled: boolean;
  mode: CompressionMode;
  /** In [0, 1); null: the mode's default target (library MODE_DEFAULTS). */
  targetCompressionRatio: number | null;
  /** Positive; Infinity for no budget. */
  maxLatencyMs: number;
  /** Preferred model; null: the engine's default. */
  modelType: string | null;
  modelVersion: string | null;
  useGpu: boolean;
  /** In [0, 1]; null: the mode's default quality floor. */
  minQualityScore: number | null;
  fallbackOnQualityLoss: boolean;
  optOut: boolean;
  /** How long this user's metrics and sessions are kept (1 h to ten years). */
  dataRetentionHours: number;
  createdAt: Date;
  updatedAt: Date;
}

export type UserConfigPatch = Partial<Omit<UserConfig, 'userId' | 'createdAt' | 'updatedAt'>>;

/** A patch field and its column. The order is the column order of the upsert. */
export const CONFIG_COLUMNS = {
  enabled: 'enabled',
  mode: 'mode',
  targetCompressionRatio: 'target_compression_ratio',
  maxLatencyMs: 'max_latency_ms',
  modelType: 'model_type',
  modelVersion: 'model_version',
  useGpu: 'use_gpu',
  minQualityScore: 'min_quality_score',
  fallbackOnQualityLoss: 'fallback_on_quality_loss',
  optOut: 'opt_out',
  dataRetentionHours: 'data_retention_hours',
} as const satisfies Record<keyof UserConfigPatch, string>;

export const DEFAULT_RETENTION_HOURS = 720;

export class ConfigValidationError extends Error {
  readonly code = 'INVALID_ARGUMENT';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'ConfigValidationError';
    this.field = field;
  }
}

const bool = (field: string, v: unknown): boolean => {
  if (typeof v !== 'boolean') throw new ConfigValidationError(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
};

const unitOrNull = (field: string, v: unknown, closedTop: boolean): number | null => {
  if (v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (closedTop ? v > 1 : v >= 1)) {
    throw new ConfigValidationError(field, `must be a number in [0, ${closedTop ? '1]' : '1)'} or null (the mode's default), got ${String(v)}`);
  }
  return v;
};

const nameOrNull = (field: string, v: unknown, max: number): string | null => {
  if (v === null) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > max || v.includes('\0')) {
    throw new ConfigValidationError(field, `must be a non-empty string of at most ${max} characters, or null`);
  }
  return v;
};

/**
 * Checks a patch (as from a JSON body): known fields only, each of the right type and range.
 * Returns a copy holding only the fields given. An empty patch is allowed (it creates the row
 * with the defaults, or only bumps updated_at).
 */
export function validateConfigPatch(patch: unknown): UserConfigPatch {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    throw new ConfigValidationError('config', 'must be an object');
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    switch (key as keyof UserConfigPatch) {
      case 'enabled':
      case 'useGpu':
      case 'fallbackOnQualityLoss':
      case 'optOut':
        out[key] = bool(key, v);
        break;
      case 'mode':
        if (typeof v !== 'string' || !(MODES as readonly string[]).includes(v)) {
          throw new ConfigValidationError(key, `must be one of ${MODES.join(', ')}, got ${JSON.stringify(v)}`);
        }
        out[key] = v;
        break;
      case 'targetCompressionRatio':
        out[key] = unitOrNull(key, v, false);
        break;
      case 'minQualityScore':
        out[key] = unitOrNull(key, v, true);
        break;
      case 'maxLatencyMs':
        if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) {
          throw new ConfigValidationError(key, `must be a positive number of milliseconds (or Infinity), got ${String(v)}`);
        }
        out[key] = v;
        break;
      case 'modelType':
        out[key] = nameOrNull(key, v, 128);
        break;
      case 'modelVersion':
        out[key] = nameOrNull(key, v, 64);
        break;
      case 'dataRetentionHours':
        if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 87_600) {
          throw new ConfigValidationError(key, `must be a whole number of hours from 1 to 87600, got ${String(v)}`);
        }
        out[key] = v;
        break;
      default:
        throw new ConfigValidationError(key, `is not a configuration field (fields: ${Object.keys(CONFIG_COLUMNS).join(', ')})`);
    }
  }
  return out as UserConfigPatch;
}

interface ConfigRow {
  user_id: string;
  enabled: boolean;
  mode: CompressionMode;
  target_compression_ratio: unknown;
  max_latency_ms: unknown;
  model_type: string | null;
  model_version: string | null;
  use_gpu: boolean;
  min_quality_score: unknown;
  fallback_on_quality_loss: boolean;
  opt_out: boolean;
  data_retention_hours: unknown;
  created_at: Date;
  updated_at: Date;
}

function fromRow(r: ConfigRow): UserConfig {
  return {
    userId: r.user_id,
    enabled: r.enabled,
    mode: r.mode,
    targetCompressionRatio: r.target_compression_ratio === null ? null : num(r.target_compression_ratio),
    maxLatencyMs: num(r.max_latency_ms),
    modelType: r.model_type,
    modelVersion: r.model_version,
    useGpu: r.use_gpu,
    minQualityScore: r.min_quality_score === null ? null : num(r.min_quality_score),
    fallbackOnQualityLoss: r.fallback_on_quality_loss,
    optOut: r.opt_out,
    dataRetentionHours: num(r.data_retention_hours),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

/** Inside withUser(): the user's row, or null. */
export async function selectConfig(tx: Tx, userId: string): Promise<UserConfig | null> {
  const r = await tx.query<ConfigRow>('SELECT * FROM aic_configs WHERE user_id = $1', [userId]);
  return r.rows[0] ? fromRow(r.rows[0]) : null;
}

/**
 * Inside withUser(): insert the row with the patch over the defaults, or update the patched
 * columns of the existing row (the trigger of migration 003 bumps updated_at and notifies
 * aic_config_changed). `patch` must come from validateConfigPatch().
 */
export async function upsertConfig(tx: Tx, userId: string, patch: UserConfigPatch): Promise<UserConfig> {
  const fields = (Object.keys(CONFIG_COLUMNS) as (keyof UserConfigPatch)[]).filter((k) => patch[k] !== undefined);
  const columns = fields.map((k) => CONFIG_COLUMNS[k]);
  const params: unknown[] = [userId, ...fields.map((k) => patch[k])];
  const placeholders = fields.map((_, i) => `$${i + 2}`);
  const sets = columns.length > 0 ? columns.map((c) => `${c} = EXCLUDED.${c}`).join(', ') : 'updated_at = now()';
  const sql =
    `INSERT INTO aic_configs (user_id${columns.map((c) => `, ${c}`).join('')}) ` +
    `VALUES ($1${placeholders.map((p) => `, ${p}`).join('')}) ` +
    `ON CONFLICT (user_id) DO UPDATE SET ${sets} RETURNING *`;
  const r = await tx.query<ConfigRow>(sql, params);
  return fromRow(r.rows[0]!);
}
