// The one small interface the store talks to PostgreSQL through, whichever backend is behind it:
// a real server through `pg` (postgres.ts) or the embedded PGlite (pglite.ts). Both run the same
// SQL, the same migrations and the same row-level security policies.

/** Rows of one statement. `rowCount`: rows inserted, updated or deleted; rows returned otherwise. */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  /** One statement, with $1... parameters (null for SQL NULL; never undefined). */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** A script of several statements with no parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A transaction's handle: only valid inside the callback given to Db.transaction(). */
export type Tx = Queryable;

export interface ListenOptions {
  /**
   * Called after the listening connection was lost and made again: notifications sent in between
   * were missed, so whatever they would have invalidated must be dropped. Never called by PGlite.
   */
  onReconnect?: () => void;
}

export type Backend = 'postgres' | 'pglite';

export interface Db extends Queryable {
  readonly backend: Backend;
  /** Where the data is, for logs (no password). */
  readonly description: string;
  /** BEGIN; fn(tx); COMMIT, or ROLLBACK when fn throws (and the error is rethrown). */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * LISTEN on a channel until the returned function is called. Resolves once listening, so a
   * NOTIFY committed after that is delivered. On PostgreSQL, a notification from any connection
   * of the database (other replicas included); on PGlite, from this process's own instance.
   */
  listen(channel: string, onNotify: (payload: string) => void, options?: ListenOptions): Promise<() => Promise<void>>;
  /** Ends every connection (PGlite: shuts the embedded instance down). */
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** Channel names are identifiers spliced into LISTEN: plain lower-case ones only. */
export function checkChannel(channel: string): string {
  if (typeof channel !== 'string' || !CHANNEL.test(channel)) {
    throw new TypeError(`channel must be a lower-case identifier ([a-z_][a-z0-9_]*), got ${JSON.stringify(channel)}`);
  }
  return channel;
}

/** The SQLSTATE of a database error, when it has one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Errors that the same statement with the same data would raise again: data exceptions (22),
 * integrity constraint violations (23: CHECK, NOT NULL, unique, foreign key), privilege and
 * row-level security refusals (42501) and other syntax-or-access errors (42). Retrying such a
 * batch cannot succeed; anything else (connection lost, server shutting down, serialization
 * failure, out of resources) may.
 */
export function isPermanentError(err: unknown): boolean {
  const s = sqlState(err);
  return s !== undefined && (s.startsWith('22') || s.startsWith('23') || s.startsWith('42'));
}

/** Numbers from either backend: pg gives bigint and numeric as strings, PGlite as number/bigint. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  return Number.NaN;
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}
