// Versioned migrations: service/migrations/NNN_name.sql, applied in order of NNN.
//
// Each pending migration runs in a transaction of its own that first takes a transaction-level
// advisory lock, then (re)checks aic_schema_migrations: two replicas starting at once queue on the
// lock, and the second finds the version recorded by the first and skips it. A failing migration
// rolls back whole and stops the run. Running again applies nothing (the versions are recorded
// with a checksum; a recorded migration whose file changed since is an error: write a new one).
// Versions recorded but unknown to this code (a newer replica migrated first) are reported and
// left alone. A migration may not use statements that cannot run in a transaction (CREATE INDEX
// CONCURRENTLY, VACUUM).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { num, type Db, type Tx } from './db.js';

/** service/migrations, from src/store (tests) and dist/store (the built service) alike. */
export const DEFAULT_MIGRATIONS_DIR = path.resolve(__dirname, '../../migrations');

/** pg_advisory_xact_lock(key1, key2) keys: 'AIC\0' and the purpose. */
export const ADVISORY_LOCK_CLASS = 0x41494300;
export const MIGRATION_LOCK = 1;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** sha256 of the file's text. */
  checksum: string;
}

export interface MigrationReport {
  /** Versions this run applied. */
  applied: number[];
  /** Versions found already applied. */
  alreadyApplied: number[];
  /** Versions recorded in the database that this code does not know. */
  unknown: number[];
}

const FILE = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

export function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .map((file) => {
      const m = FILE.exec(file);
      if (!m) throw new Error(`migration file name must be NNN_name.sql (lower case): ${file}`);
      const sql = readFileSync(path.join(dir, file), 'utf8');
      return { version: Number(m[1]), name: m[2]!, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    })
    .sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) throw new Error(`two migrations have version ${migrations[i]!.version}`);
  }
  return migrations;
}

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS aic_schema_migrations (
  version     integer PRIMARY KEY,
  name        text NOT NULL,
  checksum    text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
)`;

async function lock(tx: Tx): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [ADVISORY_LOCK_CLASS, MIGRATION_LOCK]);
  await tx.exec(CREATE_TABLE);
}

export async function migrate(db: Db, migrations: readonly Migration[] = loadMigrations()): Promise<MigrationReport> {
  const report: MigrationReport = { applied: [], alreadyApplied: [], unknown: [] };
  for (const m of migrations) {
    await db.transaction(async (tx) => {
      await lock(tx);
      const done = await tx.query<{ checksum: string }>('SELECT checksum FROM aic_schema_migrations WHERE version = $1', [m.version]);
      if (done.rows.length > 0) {
        if (done.rows[0]!.checksum !== m.checksum) {
          throw new Error(`migration ${m.version} (${m.name}) was applied from a different file than the one here: ` +
            'applied migrations must not change; add a new one');
        }
        report.alreadyApplied.push(m.version);
        return;
      }
      try {
        await tx.exec(m.sql);
      } catch (err) {
        (err as Error).message = `migration ${m.version} (${m.name}) failed: ${(err as Error).message}`;
        throw err;
      }
      await tx.query('INSERT INTO aic_schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
      report.applied.push(m.version);
    });
  }
  const known = new Set(migrations.map((m) => m.version));
  const recorded = await db.transaction(async (tx) => {
    await lock(tx);
    return (await tx.query<{ version: unknown }>('SELECT version FROM aic_schema_migrations ORDER BY version')).rows;
  });
  report.unknown = recorded.map((r) => num(r.version)).filter((v) => !known.has(v));
  return report;
}
