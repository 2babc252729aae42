// The one way configuration is refused: AicError INVALID_CONFIG, naming the variable or field,
// where it came from, what was given (never a secret) and what is accepted.
import { AicError } from '../errors.js';

/** Where a configuration value came from; errors name it beside the variable or field. */
export type ConfigSource = 'environment' | 'user config' | 'session options';

/** Thrown by a rule that does not accept a value; turned into INVALID_CONFIG by the caller. */
export class Rejected {
  constructor(readonly why?: string) {}
}

const MAX_SHOWN = 80;

/** The given value as errors show it: quoted text (cut at 80 characters), a type for the rest, nothing of a secret. */
export function shown(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (secret) return typeof value === 'string' ? `a value of ${value.length} characters (not shown)` : `a ${typeOf(value)} (not shown)`;
  if (typeof value === 'string') {
    const cut = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return JSON.stringify(cut);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return `${String(value)} (${typeOf(value)})`;
  return `a ${typeOf(value)}`;
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** `AIC_MODE (environment)`, `mode (user config)`. */
export function where(name: string, source: ConfigSource): string {
  return `${name} (${source})`;
}

/** INVALID_CONFIG for one value: `AIC_MODE (environment): got "fast"; accepted: off, conservative, adaptive or aggressive`. */
export function invalidValue(name: string, source: ConfigSource, given: string, accepted: string, why?: string): AicError {
  return new AicError('INVALID_CONFIG', `${where(name, source)}: got ${given}${why ? ` (${why})` : ''}; accepted: ${accepted}`);
}

/** INVALID_CONFIG for values that are each fine but do not go together. */
export function invalidCombination(message: string): AicError {
  return new AicError('INVALID_CONFIG', message);
}
