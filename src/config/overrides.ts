// The settings one session runs with: the environment's defaults, overridden by the user's config
// (the reference's aic_configs row), overridden by the session's own options. An opted-out user is
// off whatever a session asks.
import { AicError } from '../errors.js';
import { MODE_DEFAULTS, type CompressionMode } from '../modes.js';
import { invalidCombination, invalidValue, Rejected, shown, type ConfigSource } from './invalid.js';
import { booleanRule, latencyRule, modeRule, modelNameRule, qualityRule, ratioRule, retentionRule, type Rule } from './rules.js';
import type { SessionDefaults } from './types.js';

/**
 * A user's configuration (the reference's `aic_configs` row, its columns in camelCase). Every field
 * is optional in an override, and `null` (a database NULL) counts as not set.
 */
export interface UserSettings {
  /** aic_configs.enabled. */
  enabled: boolean;
  /** aic_configs.mode. */
  mode: CompressionMode;
  /** aic_configs.target_compression_ratio: from 0 up to but not including 1. */
  targetCompressionRatio: number;
  /** aic_configs.max_latency_ms: greater than 0, or Infinity. */
  maxLatencyMs: number;
  /** aic_configs.min_quality_score: from 0 to 1. */
  minQualityScore: number;
  /** aic_configs.fallback_on_quality_loss: SessionOptions.enableFallback. */
  enableFallback: boolean;
  /** aic_configs.use_gpu: a preference (executionProviderFor()). */
  useGpu: boolean;
  /** aic_configs.model_type, e.g. the codec's name. */
  modelType: string;
  /** aic_configs.model_version. */
  modelVersion: string;
  /** aic_configs.opt_out: the user's sessions are off, whatever a session asks. */
  optOut: boolean;
  /** aic_configs.data_retention_hours. */
  dataRetentionHours: number;
}

/** What one session may ask for itself: the user's settings less opt-out and data retention. */
export type SessionOverrides = Omit<UserSettings, 'optOut' | 'dataRetentionHours'>;

/** An override as callers pass it: any field absent, undefined or null is not set. */
export type Override<T> = { readonly [K in keyof T]?: T[K] | null | undefined };

/** Who decided a setting: a layer, or the effective mode's own default ('mode'). */
export type SettingSource = ConfigSource | 'mode';

/** Why a session is off: the user opted out, AIC is disabled for it, or its mode is 'off'. */
export type OffReason = 'opt_out' | 'disabled' | 'mode';

/** The settings a session runs with, after every override; toSessionOptions() turns them into openSession() options. */
export interface SessionSettings {
  /** false when the session is off (offReason says why); its mode is then 'off'. */
  readonly enabled: boolean;
  readonly mode: CompressionMode;
  /** The mode's default unless a layer at or above the one that chose the mode set it; 0 when off. */
  readonly targetCompressionRatio: number;
  /** The mode's default unless a layer at or above the one that chose the mode set it; 0 when off. */
  readonly minQualityScore: number;
  readonly maxLatencyMs: number;
  readonly enableFallback: boolean;
  /** A preference; null: none (the engine's provider). */
  readonly useGpu: boolean | null;
  /** A preference; null: none (the engine's codecs). */
  readonly modelType: string | null;
  /** From the same layer as modelType or above; null: none. */
  readonly modelVersion: string | null;
  readonly optOut: boolean;
  readonly dataRetentionHours: number;
  readonly offReason: OffReason | null;
  /** Who decided each setting. */
  readonly sources: Readonly<Record<Exclude<keyof SessionSettings, 'sources' | 'offReason'>, SettingSource>>;
}

type Values = Partial<Record<keyof UserSettings, unknown>>;

const USER_RULES: { readonly [K in keyof UserSettings]: Rule<UserSettings[K]> } = {
  enabled: booleanRule,
  mode: modeRule,
  targetCompressionRatio: ratioRule,
  maxLatencyMs: latencyRule,
  minQualityScore: qualityRule,
  enableFallback: booleanRule,
  useGpu: booleanRule,
  modelType: modelNameRule,
  modelVersion: modelNameRule,
  optOut: booleanRule,
  dataRetentionHours: retentionRule,
};
const USER_FIELDS = Object.keys(USER_RULES) as (keyof UserSettings)[];
const USER_ONLY: readonly (keyof UserSettings)[] = ['optOut', 'dataRetentionHours'];
const SESSION_FIELDS = USER_FIELDS.filter((f) => !USER_ONLY.includes(f));

function check<K extends keyof UserSettings>(field: K, value: unknown, source: ConfigSource): UserSettings[K] {
  const rule = USER_RULES[field];
  try {
    return rule.fromValue(value);
  } catch (error) {
    if (error instanceof Rejected) throw invalidValue(field, source, shown(value, rule.secret), rule.accepted, error.why);
    throw error;
  }
}

/** Reads and checks one override layer: each field once, unknown fields refused, null as not set. */
function layer(given: unknown, source: ConfigSource, fields: readonly (keyof UserSettings)[]): Values {
  if (given === undefined || given === null) return {};
  if (typeof given !== 'object') throw invalidCombination(`${source} must be an object of settings, got ${shown(given)}`);
  const out: Values = {};
  let keys: string[];
  try {
    // Array.isArray() throws on a revoked Proxy, as Object.keys() does.
    if (Array.isArray(given)) throw invalidCombination(`${source} must be an object of settings, got ${shown(given)}`);
    keys = Object.keys(given);
  } catch (error) {
    if (error instanceof AicError) throw error;
    throw invalidCombination(`${source} could not be read (${error instanceof Error ? error.message : String(error)}); pass a plain object`);
  }
  for (const key of keys) {
    if (!(fields as readonly string[]).includes(key)) {
      const why = (USER_ONLY as readonly string[]).includes(key) ? "a user's setting, not a session's" : 'not a setting';
      throw invalidValue(key.length > 80 ? `${key.slice(0, 80)}…` : key, source, 'a value', `the fields ${fields.join(', ')}`, why);
    }
    let value: unknown;
    try {
      value = (given as Record<string, unknown>)[key];
    } catch (error) {
      throw invalidCombination(`${key} (${source}) could not be read (${error instanceof Error ? error.message : String(error)}); pass a plain object`);
    }
    if (value === undefined || value === null) continue;
    out[key as keyof UserSettings] = check(key as keyof UserSettings, value, source);
  }
  return out;
}

/** The environment's defaults, checked by the same rules (a hand-made base is held to them too). */
function baseLayer(base: SessionDefaults): Values {
  if (base === null || typeof base !== 'object') throw invalidCombination('resolveSessionSettings(base): base must be the session part of loadConfig()');
  const out: Values = {};
  for (const field of ['enabled', 'mode', 'targetCompressionRatio', 'maxLatencyMs', 'minQualityScore', 'enableFallback', 'dataRetentionHours'] as const) {
    const value = base[field];
    if (value === null && (field === 'targetCompressionRatio' || field === 'minQualityScore')) continue;
    out[field] = check(field, value, 'environment');
  }
  return out;
}

/**
 * The settings of one session: `session` options over the `user`'s config over the environment's
 * `base` (loadConfig().session), field by field, with two rules:
 * - a mode brings its own target and quality floor: a target or floor set below the layer that
 *   chose the mode gives way to the mode's default (a user who picks 'conservative' gets its 0.50
 *   and 0.95, not the environment's 0.80); the same holds for modelVersion under modelType;
 * - a user who opted out is off (mode 'off', enabled false) whatever the session asks, and a
 *   session that is not enabled is off.
 * Each override is checked by the rules loadConfig() applies; a value they refuse, or a field that
 * is not a setting, throws AicError INVALID_CONFIG naming the field and its source ('user config',
 * 'session options').
 */
export function resolveSessionSettings(base: SessionDefaults, user?: Override<UserSettings> | null, session?: Override<SessionOverrides> | null): SessionSettings {
  const layers: { source: ConfigSource; values: Values }[] = [
    { source: 'environment', values: baseLayer(base) },
    { source: 'user config', values: layer(user, 'user config', USER_FIELDS) },
    { source: 'session options', values: layer(session, 'session options', SESSION_FIELDS) },
  ];
  /** The highest layer from `from` up that set `field`: its index, or -1. */
  const top = (field: keyof UserSettings, from = 0): number => {
    for (let i = layers.length - 1; i >= from; i--) if (layers[i]!.values[field] !== undefined) return i;
    return -1;
  };
  const sources = {} as Record<keyof SessionSettings['sources'], SettingSource>;
  const pick = <K extends keyof UserSettings>(field: K, from = 0): UserSettings[K] | null => {
    const i = top(field, from);
    if (i < 0) return null;
    sources[field] = layers[i]!.source;
    return layers[i]!.values[field] as UserSettings[K];
  };
  const modeLayer = top('mode');
  let mode = pick('mode') ?? 'adaptive';
  if (modeLayer < 0) sources.mode = 'environment';
  let enabled = pick('enabled') ?? true;
  if (sources.enabled === undefined) sources.enabled = 'environment';
  const optOut = pick('optOut') ?? false;
  if (sources.optOut === undefined) sources.optOut = 'environment';
  let offReason: OffReason | null = null;
  if (optOut) {
    offReason = 'opt_out';
    sources.enabled = sources.mode = 'user config';
  } else if (!enabled) {
    offReason = 'disabled';
    sources.mode = sources.enabled;
  } else if (mode === 'off') {
    offReason = 'mode';
    sources.enabled = sources.mode;
  }
  if (offReason !== null) {
    enabled = false;
    mode = 'off';
  }
  const from = Math.max(0, modeLayer);
  let targetCompressionRatio = offReason === null ? pick('targetCompressionRatio', from) : null;
  let minQualityScore = offReason === null ? pick('minQualityScore', from) : null;
  if (targetCompressionRatio === null) {
    targetCompressionRatio = MODE_DEFAULTS[mode].targetCompressionRatio;
    sources.targetCompressionRatio = 'mode';
  }
  if (minQualityScore === null) {
    minQualityScore = MODE_DEFAULTS[mode].minQualityScore;
    sources.minQualityScore = 'mode';
  }
  const modelType = pick('modelType');
  const modelTypeLayer = top('modelType');
  const modelVersion = pick('modelVersion', Math.max(0, modelTypeLayer));
  const settings: SessionSettings = {
    enabled,
    mode,
    targetCompressionRatio,
    minQualityScore,
    maxLatencyMs: pick('maxLatencyMs') ?? 20,
    enableFallback: pick('enableFallback') ?? true,
    useGpu: pick('useGpu'),
    modelType,
    modelVersion,
    optOut,
    dataRetentionHours: pick('dataRetentionHours') ?? 720,
    offReason,
    sources,
  };
  for (const field of ['maxLatencyMs', 'enableFallback', 'useGpu', 'modelType', 'modelVersion', 'dataRetentionHours'] as const) sources[field] ??= 'environment';
  Object.freeze(sources);
  return Object.freeze(settings);
}
