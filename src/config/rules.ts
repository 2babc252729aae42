// What each kind of configuration value accepts. A rule reads a value from an environment
// variable's text and from a typed source (a caller's object, a JSON body, a database row) by the
// same bounds, and says what it accepts in the words that errors and the variables table print.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { MODES, type CompressionMode } from '../modes.js';
import { Rejected } from './invalid.js';

export interface Rule<T> {
  /** What the rule accepts, for people: errors and the variables table print it. */
  readonly accepted: string;
  /** Errors never show the value given (secrets, URLs that may carry a password). */
  readonly secret?: boolean;
  /** The value of an environment variable's text (trimmed, not empty); throws Rejected. */
  fromText(text: string): T;
  /** The value of a typed source; throws Rejected. */
  fromValue(value: unknown): T;
}

/** "a, b or c". */
export function orList(values: readonly string[]): string {
  return values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]!}`;
}

const TRUE = ['true', '1', 'yes'];
const FALSE = ['false', '0', 'no'];

export const booleanRule: Rule<boolean> = {
  accepted: 'true, false, 1, 0, yes or no',
  fromText(text) {
    const t = text.toLowerCase();
    if (TRUE.includes(t)) return true;
    if (FALSE.includes(t)) return false;
    throw new Rejected();
  },
  fromValue(value) {
    if (typeof value !== 'boolean') throw new Rejected('not a boolean');
    return value;
  },
};

/** One of `values`; text is matched without regard to case. */
export function enumRule<T extends string>(values: readonly T[]): Rule<T> {
  return {
    accepted: orList(values),
    fromText(text) {
      const t = text.toLowerCase();
      const found = values.find((v) => v === t);
      if (found === undefined) throw new Rejected();
      return found;
    },
    fromValue(value) {
      if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) throw new Rejected();
      return value as T;
    },
  };
}

export const modeRule: Rule<CompressionMode> = enumRule(MODES);

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

interface NumberBounds {
  accepted: string;
  min: number;
  /** The least value is itself refused. */
  minOpen?: boolean;
  max: number;
  maxOpen?: boolean;
  integer?: boolean;
  /** The text `Infinity` (and the number) is accepted: "none". */
  infinity?: boolean;
}

/** A decimal number within bounds (no hex, no blanks, no NaN). */
export function numberRule(b: NumberBounds): Rule<number> {
  const check = (n: number): number => {
    if (Number.isNaN(n)) throw new Rejected('not a number');
    if (n === Infinity && b.infinity) return n;
    if (!Number.isFinite(n)) throw new Rejected('out of range');
    if (b.integer && !Number.isInteger(n)) throw new Rejected('not a whole number');
    if (n < b.min || (b.minOpen && n === b.min) || n > b.max || (b.maxOpen && n === b.max)) throw new Rejected('out of range');
    return n;
  };
  return {
    accepted: b.accepted,
    fromText(text) {
      if (b.infinity && text.toLowerCase() === 'infinity') return Infinity;
      if (!(b.integer ? INTEGER : DECIMAL).test(text)) throw new Rejected(b.integer ? 'not a whole number' : 'not a number');
      return check(Number(text));
    },
    fromValue(value) {
      if (typeof value !== 'number') throw new Rejected('not a number');
      return check(value);
    },
  };
}

/** Compression ratio targets: 1 - compressed/original, from 0 up to (not including) 1. */
export const ratioRule = numberRule({ accepted: 'a number from 0 up to but not including 1 (e.g. 0.80)', min: 0, max: 1, maxOpen: true });
/** Quality floors: a score from 0 to 1. */
export const qualityRule = numberRule({ accepted: 'a number from 0 to 1 (e.g. 0.85)', min: 0, max: 1 });
/** A frame's latency budget. */
export const latencyRule = numberRule({ accepted: 'a number of milliseconds greater than 0, or Infinity for no budget', min: 0, minOpen: true, max: Infinity, infinity: true });
export const timeoutRule = numberRule({ accepted: 'a whole number of milliseconds from 1 to 3600000', min: 1, max: 3_600_000, integer: true });
export const retryRule = numberRule({ accepted: 'a whole number from 0 to 10', min: 0, max: 10, integer: true });
export const retentionRule = numberRule({ accepted: 'a whole number of hours from 1 to 87600 (10 years)', min: 1, max: 87_600, integer: true });

/** Text rules: one function from a string, the same for both sources. */
function textRule<T>(accepted: string, parse: (text: string) => T, secret = false): Rule<T> {
  return {
    accepted,
    secret,
    fromText: parse,
    fromValue(value) {
      if (typeof value !== 'string') throw new Rejected('not a string');
      const t = value.trim();
      if (t.length === 0) throw new Rejected('empty');
      return parse(t);
    },
  };
}

export interface HostPort {
  /** `host:port` as gRPC takes it (IPv6 in brackets). */
  readonly address: string;
  /** The host without brackets. */
  readonly host: string;
  readonly port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+$/;

function port(text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new Rejected('the port is not a number');
  const p = Number(text);
  if (p < 1 || p > 65535) throw new Rejected('the port is out of range');
  return p;
}

export const hostPortRule: Rule<HostPort> = textRule('host:port, the port from 1 to 65535 (e.g. localhost:50051, 0.0.0.0:50051, [::1]:50051)', (text) => {
  if (text.includes('://')) throw new Rejected('a URL: give host:port');
  const bracketed = /^\[([^\]]+)\]:([^:]*)$/.exec(text);
  if (bracketed) {
    const host = bracketed[1]!;
    if (!IPV6.test(host) || !host.includes(':')) throw new Rejected('not an IPv6 address in the brackets');
    const p = port(bracketed[2]!);
    return { address: `[${host}]:${p}`, host, port: p };
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw new Rejected('no port');
  const host = text.slice(0, colon);
  if (host.includes(':')) throw new Rejected('an IPv6 address goes in brackets');
  if (!HOSTNAME.test(host)) throw new Rejected('not a host name or address');
  const p = port(text.slice(colon + 1));
  return { address: `${host}:${p}`, host, port: p };
});

export interface HttpUrl {
  /** The URL, normalised (`http://localhost:8000/`). */
  readonly url: string;
  readonly protocol: 'http' | 'https';
  /** The host without brackets. */
  readonly host: string;
  /** The port, 80 or 443 when the URL names none. */
  readonly port: number;
}

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new Rejected('not a URL');
  }
}

function bareHost(u: URL): string {
  return u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
}

export const httpUrlRule: Rule<HttpUrl> = textRule('an http:// or https:// URL with a host (e.g. http://localhost:8000)', (text) => {
  const u = parseUrl(text);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Rejected(`a ${u.protocol} URL`);
  if (u.hostname.length === 0) throw new Rejected('no host');
  if (u.username || u.password) throw new Rejected('credentials in the URL');
  const protocol = u.protocol === 'https:' ? 'https' : 'http';
  return { url: u.href, protocol, host: bareHost(u), port: u.port ? Number(u.port) : protocol === 'https' ? 443 : 80 };
});

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);

export const jwksUrlRule: Rule<string> = textRule('an https:// URL (http:// only for localhost, 127.0.0.1 or [::1])', (text) => {
  const u = parseUrl(text);
  if (u.protocol === 'http:' && !LOOPBACK.has(bareHost(u))) throw new Rejected('http:// to a host other than this one');
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Rejected(`a ${u.protocol} URL`);
  return u.href;
});

/** The URL is never shown: it may hold a password. */
export const postgresUrlRule: Rule<string> = textRule(
  'a postgres:// or postgresql:// URL (e.g. postgresql://user:pass@localhost:5432/auralink)',
  (text) => {
    const u = parseUrl(text);
    if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new Rejected(`a ${u.protocol} URL`);
    return text;
  },
  true,
);

/** A readable file; the path is kept absolute. */
export const fileRule: Rule<string> = textRule('a path to a readable file', (text) => {
  const file = path.resolve(text);
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new Rejected('no such file');
  }
  if (!isFile) throw new Rejected('not a file');
  try {
    accessSync(file, constants.R_OK);
  } catch {
    throw new Rejected('not readable');
  }
  return file;
});

/** An HS256 key must be at least as long as the hash (RFC 7518, section 3.2). */
export const jwtSecretRule: Rule<string> = textRule(
  'a shared secret of at least 32 characters (HS256)',
  (text) => {
    if (text.length < 32) throw new Rejected('too short');
    return text;
  },
  true,
);

export const nonEmptyTextRule: Rule<string> = textRule('any text that is not empty', (text) => text);

function names(text: string): readonly string[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p.length === 0)) throw new Rejected('an empty name');
  return Object.freeze(parts);
}

/** Comma-separated names; none empty. */
export const listRule: Rule<readonly string[]> = {
  accepted: 'one or more names, separated by commas',
  fromText: names,
  fromValue(value) {
    if (typeof value === 'string') return names(value.trim());
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v.trim().length > 0)) throw new Rejected();
    return Object.freeze(value.map((v: string) => v.trim()));
  },
};

/** A model's type or version: a short name. */
export const modelNameRule: Rule<string> = textRule("1 to 64 letters, digits, '.', '_' or '-'", (text) => {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) throw new Rejected();
  return text;
});

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];
export const logLevelRule: Rule<LogLevel> = enumRule(LOG_LEVELS);
