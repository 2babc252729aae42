// Picks the backend: a PostgreSQL server when a URL is given, else the embedded PGlite.
import type { Db } from './db.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export interface OpenDbOptions {
  /** A PostgreSQL server (DATABASE_URL). When absent, the embedded PGlite is used. */
  databaseUrl?: string;
  /** PGlite only: keep the database in this folder instead of in memory. */
  dataDir?: string;
  /** PostgreSQL only: pool size (default 10). */
  maxConnections?: number;
  onError?: (err: Error, context: string) => void;
}

export function openDb(options: OpenDbOptions = {}): Promise<Db> {
  if (options.databaseUrl && options.dataDir) {
    return Promise.reject(new TypeError('give databaseUrl (a PostgreSQL server) or dataDir (the embedded PGlite), not both'));
  }
  if (options.databaseUrl) {
    return openPostgres({
      connectionString: options.databaseUrl,
      ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }
  return openPglite(options.dataDir ? { dataDir: options.dataDir } : {});
}
