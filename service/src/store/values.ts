// Checks of the values the frame path hands to the store. They run when a row is enqueued, so a
// row that the table's CHECK constraints would refuse never reaches a batch (one bad row would
// fail the whole INSERT).
import { MODES, type CompressionMode } from './config.js';

export class RowError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'RowError';
  }
}

export function text(v: unknown, what: string, max = 256): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max || v.includes('\0')) {
    throw new RowError(`${what} must be a non-empty string of at most ${max} characters`);
  }
  return v;
}

export function optText(v: unknown, what: string, max = 256): string | null {
  return v === undefined || v === null ? null : text(v, what, max);
}

export function optMode(v: unknown, what = 'mode'): CompressionMode | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !(MODES as readonly string[]).includes(v)) throw new RowError(`${what} must be one of ${MODES.join(', ')}`);
  return v as CompressionMode;
}

/** A count: a whole number from 0 to 2^53 - 1. */
export function count(v: unknown, what: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RowError(`${what} must be a whole number >= 0, got ${String(v)}`);
  return v;
}

/** A measured compression ratio: finite and below 1 (negative when the payload outgrew the frame). */
export function optRatio(v: unknown, what: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v >= 1) throw new RowError(`${what} must be a finite number below 1, got ${String(v)}`);
  return v;
}

export function optUnit(v: unknown, what: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) throw new RowError(`${what} must be a number in [0, 1], got ${String(v)}`);
  return v;
}

export function optMs(v: unknown, what: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RowError(`${what} must be a finite number of milliseconds >= 0, got ${String(v)}`);
  return v;
}

/** A Date or epoch milliseconds, as the ISO string both backends take for timestamptz. */
export function time(v: unknown, what: string, fallback: number): string {
  const ms = v === undefined || v === null ? fallback : v instanceof Date ? v.getTime() : v;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) throw new RowError(`${what} must be a Date or epoch milliseconds`);
  return new Date(ms).toISOString();
}
