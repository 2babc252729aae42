// The Db backend for the embedded PGlite (PostgreSQL compiled to WebAssembly, in this process).
//
// What the embedded default cannot do, compared with a PostgreSQL server (DATABASE_URL):
//   * several replicas: one PGlite instance lives inside one process and has one connection; no
//     other process can open its data directory at the same time, so two service replicas cannot
//     share a store (use DATABASE_URL for that);
//   * durability without a data directory: by default the database is in memory and is gone when
//     the process exits; with a data directory it is kept on disk and reopened on start;
//   * connections from other processes: there is no socket, so psql, pg_dump, a dashboard or a
//     backup tool cannot connect to it (stop the service and open the data directory with PGlite,
//     or use a server);
//   * concurrency: statements and transactions of the process run one at a time.
// LISTEN/NOTIFY works within the instance: a NOTIFY committed by any transaction of this process
// (its config trigger included) reaches the listeners of this process, which is all the sharing
// that one process can have.
import { PGlite } from '@electric-sql/pglite';
import { checkChannel, type Db, type QueryResult, type Tx } from './db.js';

export interface PgliteOptions {
  /** A folder to keep the database in (made when absent); in memory when not given. */
  dataDir?: string;
}

export async function openPglite(options: PgliteOptions = {}): Promise<Db> {
  const instance = await PGlite.create(options.dataDir);
  return new PgliteDb(instance, options.dataDir);
}

interface PgliteResults {
  rows: unknown[];
  affectedRows?: number;
}

function result<R>(r: PgliteResults): QueryResult<R> {
  // affectedRows counts INSERT/UPDATE/DELETE rows (0 for SELECT); rowCount means returned rows then.
  return { rows: r.rows as R[], rowCount: r.affectedRows ? r.affectedRows : r.rows.length };
}

class PgliteDb implements Db {
  readonly backend = 'pglite' as const;
  readonly description: string;
  readonly #pg: PGlite;
  #closed = false;

  constructor(instance: PGlite, dataDir: string | undefined) {
    this.#pg = instance;
    this.description = dataDir ? `pglite ${dataDir}` : 'pglite in memory';
  }

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    return result<R>(await this.#pg.query(sql, params as unknown[]));
  }

  async exec(sql: string): Promise<void> {
    await this.#pg.exec(sql);
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.#pg.transaction(async (t) => {
      let open = true;
      const tx: Tx = {
        query: async <R>(sql: string, params: readonly unknown[] = []) => {
          if (!open) throw new Error('transaction handle used after its transaction ended');
          return result<R>(await t.query(sql, params as unknown[]));
        },
        exec: async (sql: string) => {
          if (!open) throw new Error('transaction handle used after its transaction ended');
          await t.exec(sql);
        },
      };
      try {
        return await fn(tx);
      } finally {
        open = false;
      }
    });
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('database closed');
    const unlisten = await this.#pg.listen(checkChannel(channel), onNotify);
    let removed = false;
    return async () => {
      if (removed || this.#closed) return;
      removed = true;
      await unlisten();
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pg.close();
  }
}
