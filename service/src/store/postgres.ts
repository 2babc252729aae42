// The Db backend for a real PostgreSQL server: a `pg` Pool for queries and transactions, and one
// dedicated connection for LISTEN (a pooled connection would be handed to other work).
import pg from 'pg';
import { checkChannel, type Db, type ListenOptions, type QueryResult, type Tx } from './db.js';

export interface PostgresOptions {
  /** postgresql://user:password@host:port/database?... (libpq's URL form). */
  connectionString: string;
  /** Pool size (default 10). */
  maxConnections?: number;
  /** Shown in pg_stat_activity (default aic-service). */
  applicationName?: string;
  /** Errors of idle pooled connections and of the listening connection (they are recovered from). */
  onError?: (err: Error, context: string) => void;
}

/** Opens a pool and checks that one connection can be made. */
export async function openPostgres(options: PostgresOptions): Promise<Db> {
  const onError = options.onError ?? (() => {});
  const config: pg.PoolConfig = {
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'aic-service',
    keepAlive: true,
    // A partitioned or stopped server must fail calls, not hang them: the core falls back to the
    // last settings it read, /health says degraded, and the write queue retries its batches.
    connectionTimeoutMillis: 5000,
    query_timeout: 15000,
    statement_timeout: 15000,
  };
  const pool = new pg.Pool(config);
  // An idle client's error (the server restarted, a network cut): the pool discards that client;
  // without a listener Node would treat the 'error' event as fatal.
  pool.on('error', (err) => onError(err, 'idle pooled connection'));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  return new PostgresDb(pool, config, onError);
}

function describe(connectionString: string): string {
  try {
    const u = new URL(connectionString);
    u.password = '';
    return `postgres ${u.host}${u.pathname}`;
  } catch {
    return 'postgres';
  }
}

class PostgresDb implements Db {
  readonly backend = 'postgres' as const;
  readonly description: string;
  readonly #pool: pg.Pool;
  readonly #listener: Listener;
  #closed = false;

  constructor(pool: pg.Pool, config: pg.PoolConfig, onError: (err: Error, context: string) => void) {
    this.#pool = pool;
    this.description = describe(String(config.connectionString));
    this.#listener = new Listener(config, onError);
  }

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    const r = await this.#pool.query(sql, params as unknown[]);
    return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
  }

  async exec(sql: string): Promise<void> {
    await this.#pool.query(sql); // no parameters: the simple protocol, which takes several statements
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    let open = true;
    const tx: Tx = {
      query: async <R>(sql: string, params: readonly unknown[] = []) => {
        if (!open) throw new Error('transaction handle used after its transaction ended');
        const r = await client.query(sql, params as unknown[]);
        return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length } as QueryResult<R>;
      },
      exec: async (sql: string) => {
        if (!open) throw new Error('transaction handle used after its transaction ended');
        await client.query(sql);
      },
    };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(tx);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error; // the connection is gone: the pool must not reuse it
      }
      throw err;
    } finally {
      open = false;
      client.release(broken);
    }
  }

  listen(channel: string, onNotify: (payload: string) => void, options: ListenOptions = {}): Promise<() => Promise<void>> {
    if (this.#closed) return Promise.reject(new Error('database closed'));
    return this.#listener.add(checkChannel(channel), onNotify, options.onReconnect);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener.close();
    await this.#pool.end();
  }
}

/**
 * One connection LISTENing on every channel asked for. When it drops it is made again (backoff
 * 100 ms doubling to 10 s), every channel is listened on again, and the onReconnect callbacks run.
 */
class Listener {
  readonly #config: pg.ClientConfig;
  readonly #onError: (err: Error, context: string) => void;
  readonly #channels = new Map<string, Set<(payload: string) => void>>();
  readonly #resync = new Map<(payload: string) => void, () => void>();
  #client: pg.Client | null = null;
  #connecting: Promise<pg.Client> | null = null;
  #retryMs = 100;
  #retryTimer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(config: pg.ClientConfig, onError: (err: Error, context: string) => void) {
    this.#config = { ...config, application_name: `${config.application_name ?? 'aic-service'} listener` };
    this.#onError = onError;
  }

  async add(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>> {
    let set = this.#channels.get(channel);
    const first = !set;
    if (!set) this.#channels.set(channel, (set = new Set()));
    set.add(onNotify);
    if (onReconnect) this.#resync.set(onNotify, onReconnect);
    try {
      const client = this.#client ?? (await this.#connect());
      // A client connected before this channel existed does not listen on it yet (LISTEN twice is
      // harmless, should #connect() have picked it up).
      if (first) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
    } catch (err) {
      this.#remove(channel, onNotify);
      throw err;
    }
    let removed = false;
    return async () => {
      if (removed) return;
      removed = true;
      const last = this.#remove(channel, onNotify);
      const client = this.#client;
      if (last && client) await client.query(`UNLISTEN ${client.escapeIdentifier(channel)}`).catch(() => {});
    };
  }

  /** Returns true when that was the channel's last callback. */
  #remove(channel: string, onNotify: (payload: string) => void): boolean {
    this.#resync.delete(onNotify);
    const set = this.#channels.get(channel);
    if (!set) return false;
    set.delete(onNotify);
    if (set.size > 0) return false;
    this.#channels.delete(channel);
    return true;
  }

  #connect(): Promise<pg.Client> {
    if (this.#connecting) return this.#connecting;
    this.#connecting = (async () => {
      const client = new pg.Client(this.#config);
      client.on('notification', (msg) => {
        for (const cb of [...(this.#channels.get(msg.channel) ?? [])]) {
          try {
            cb(msg.payload ?? '');
          } catch (err) {
            this.#onError(err as Error, `notification callback (${msg.channel})`);
          }
        }
      });
      client.on('error', (err) => this.#lost(client, err));
      client.on('end', () => this.#lost(client, new Error('listening connection ended')));
      try {
        await client.connect();
        for (const channel of this.#channels.keys()) await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      } catch (err) {
        client.removeAllListeners('end');
        client.on('error', () => {});
        await client.end().catch(() => {});
        throw err;
      }
      if (this.#closed) {
        await client.end().catch(() => {});
        throw new Error('database closed');
      }
      this.#client = client;
      this.#retryMs = 100;
      return client;
    })().finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  #lost(client: pg.Client, err: Error): void {
    if (this.#client !== client) return;
    this.#client = null;
    client.removeAllListeners('end');
    client.on('error', () => {});
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#onError(err, 'LISTEN connection lost; reconnecting');
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#retryTimer) return;
    const delay = this.#retryMs;
    this.#retryMs = Math.min(this.#retryMs * 2, 10_000);
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (this.#closed || this.#client) return;
      this.#connect().then(
        () => {
          for (const resync of [...this.#resync.values()]) {
            try {
              resync();
            } catch (e) {
              this.#onError(e as Error, 'onReconnect callback');
            }
          }
        },
        (e: Error) => {
          this.#onError(e, 'LISTEN reconnect failed');
          this.#scheduleReconnect();
        },
      );
    }, delay);
    this.#retryTimer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = null;
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => {});
      await client.end().catch(() => {});
    }
  }
}
