// A real PostgreSQL server for a test file: AIC_TEST_DATABASE_URL when set (a role that may
// CREATE DATABASE), else a throwaway cluster of Debian's postgresql started by
// scripts/start-postgres.sh and stopped after the file. Without PostgreSQL's binaries: null (with
// a loud warning), or a failure when AIC_TEST_REQUIRE_POSTGRES=1 (CI).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');

export interface Server {
  adminUrl: string;
  /** Set when this file started the cluster (and must stop it). */
  dir: string | null;
}

export function startServer(testFile: string): Server | null {
  if (process.env.AIC_TEST_DATABASE_URL) return { adminUrl: process.env.AIC_TEST_DATABASE_URL, dir: null };
  let out: string;
  try {
    out = execFileSync('bash', [path.join(ROOT, 'scripts/start-postgres.sh'), 'start', '--no-install'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as { status?: number; stderr?: string };
    const why = `scripts/start-postgres.sh failed (exit ${e.status}): ${(e.stderr ?? '').trim()}`;
    if (process.env.AIC_TEST_REQUIRE_POSTGRES === '1') throw new Error(why);
    console.warn(
      `\n${'!'.repeat(100)}\n!! SKIPPING the PostgreSQL part of ${testFile}: ${why}\n` +
        `!! Install Debian's postgresql (apt-get install postgresql) or set AIC_TEST_DATABASE_URL.\n${'!'.repeat(100)}\n`,
    );
    return null;
  }
  const url = /^DATABASE_URL=(.+)$/m.exec(out)?.[1];
  const dir = /^AIC_PG_DIR=(.+)$/m.exec(out)?.[1];
  if (!url || !dir) throw new Error(`unexpected output of start-postgres.sh: ${out}`);
  const stop = () => {
    try {
      execFileSync('bash', [path.join(ROOT, 'scripts/start-postgres.sh'), 'stop', dir], { stdio: 'ignore', timeout: 60_000 });
    } catch {
      // already stopped
    }
  };
  process.once('exit', stop); // should the file die before afterAll
  afterAll(stop);
  return { adminUrl: url, dir };
}
