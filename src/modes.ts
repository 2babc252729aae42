// Compression modes and the per-session settings they imply (../shared/GUIDE.md, docs/api.md).
import { AicError } from './errors.js';

export type CompressionMode = 'off' | 'conservative' | 'adaptive' | 'aggressive';

export const MODES: readonly CompressionMode[] = ['off', 'conservative', 'adaptive', 'aggressive'];

/** Default target ratio (1 - compressed/original) and quality floor of each mode. */
export const MODE_DEFAULTS: Readonly<Record<CompressionMode, { targetCompressionRatio: number; minQualityScore: number }>> = {
  off: { targetCompressionRatio: 0, minQualityScore: 0 },
  conservative: { targetCompressionRatio: 0.5, minQualityScore: 0.95 },
  adaptive: { targetCompressionRatio: 0.8, minQualityScore: 0.85 },
  aggressive: { targetCompressionRatio: 0.9, minQualityScore: 0.7 },
};

/** Modes ordered from most bytes to fewest: the network adapter steps along this list. */
export function moreAggressive(mode: CompressionMode, steps = 1): CompressionMode {
  if (mode === 'off') return mode;
  const order: CompressionMode[] = ['conservative', 'adaptive', 'aggressive'];
  return order[Math.min(order.length - 1, order.indexOf(mode) + steps)]!;
}

export function checkMode(mode: unknown, what = 'mode'): CompressionMode {
  if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode)) {
    throw new AicError('INVALID_ARGUMENT', `${what} must be one of ${MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  }
  return mode as CompressionMode;
}

export function checkUnit(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new AicError('INVALID_ARGUMENT', `${what} must be a number from 0 to 1, got ${String(value)}`);
  }
  return value;
}
