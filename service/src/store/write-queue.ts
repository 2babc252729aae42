// The write-behind queue between the frame path and the database.
//
// recordMetric() and the session calls only touch memory and return at once, whatever the
// database is doing: metric rows go into a bounded ring (when it is full the oldest rows are
// dropped and counted), sessions into a map of their latest state (marked dirty on change). A
// writer takes batches off them, every flushIntervalMs or as soon as batchSize rows are waiting,
// and writes each batch with one statement in one transaction as aic_system: INSERT ... unnest()
// for metrics, an upsert for sessions. One write runs at a time.
//
// A batch that fails for a reason that may pass (connection lost, server restarting) goes back to
// the queue (metrics at the oldest end, within the bound; sessions stay dirty) and is retried on
// the next round. A batch that the database refuses for its data (SQLSTATE class 22/23/42) would
// fail again: it is dropped and counted as rejected. Rows are checked when enqueued, so that should
// not happen; it reports through onError when it does.
import type { Db } from './db.js';
import { isPermanentError } from './db.js';
import { insertMetrics, toMetricRow, type MetricRow, type MetricSample } from './metrics.js';
import { Ring } from './ring.js';
import { applySession, newSessionRow, sessionKey, upsertSessions, type SessionEnd, type SessionRow } from './sessions.js';
import { withSystem } from './with-user.js';

export interface WriteQueueOptions {
  /** Write what is queued at least this often (default 1000 ms). */
  flushIntervalMs?: number;
  /** Rows per statement; this many waiting starts a write before the interval (default 500). */
  batchSize?: number;
  /** Metric rows held at most; past it the oldest are dropped (default 10 000). */
  maxQueuedMetrics?: number;
  /** Sessions tracked at most (open, or closed and not yet written); past it new ones are refused (default 100 000). */
  maxTrackedSessions?: number;
  onError?: (err: Error, context: string) => void;
}

export interface WriteQueueStats {
  queuedMetrics: number;
  trackedSessions: number;
  dirtySessions: number;
  /** Metric rows dropped because the queue was full (oldest first), or enqueued after close(). */
  droppedMetrics: number;
  /** Session updates refused because maxTrackedSessions sessions were tracked, or given after close(). */
  droppedSessionUpdates: number;
  /** Rows refused as invalid when enqueued, or refused by the database for their data. */
  rejectedRows: number;
  writtenMetrics: number;
  writtenSessions: number;
  /** Successful write statements (one per batch). */
  writes: number;
  failedWrites: number;
  lastError: string | null;
}

interface Tracked {
  row: SessionRow;
  /** Bumped on every change: a write of an older version leaves the session dirty. */
  version: number;
  closed: boolean;
}

export class WriteQueue {
  readonly #db: Db;
  readonly #batchSize: number;
  readonly #maxSessions: number;
  readonly #onError: (err: Error, context: string) => void;
  readonly #metrics: Ring<MetricRow>;
  readonly #sessions = new Map<string, Tracked>();
  readonly #dirty = new Set<string>();
  readonly #timer: NodeJS.Timeout;
  #inflight: Promise<void> | null = null;
  #kickScheduled = false;
  #closed = false;
  #rejectReported = 0;
  readonly #stats = {
    droppedMetrics: 0,
    droppedSessionUpdates: 0,
    rejectedRows: 0,
    writtenMetrics: 0,
    writtenSessions: 0,
    writes: 0,
    failedWrites: 0,
    lastError: null as string | null,
  };

  constructor(db: Db, options: WriteQueueOptions = {}) {
    const positive = (v: number | undefined, dflt: number, what: string) => {
      const x = v ?? dflt;
      if (!Number.isSafeInteger(x) || x < 1) throw new RangeError(`${what} must be a whole number >= 1, got ${String(v)}`);
      return x;
    };
    this.#db = db;
    this.#batchSize = positive(options.batchSize, 500, 'batchSize');
    this.#maxSessions = positive(options.maxTrackedSessions, 100_000, 'maxTrackedSessions');
    this.#metrics = new Ring(positive(options.maxQueuedMetrics, 10_000, 'maxQueuedMetrics'));
    this.#onError = options.onError ?? (() => {});
    const interval = positive(options.flushIntervalMs, 1000, 'flushIntervalMs');
    this.#timer = setInterval(() => this.#background(), interval);
    this.#timer.unref();
  }

  /** Enqueues a sample; false when it was refused (invalid, or after close). Never throws. */
  recordMetric(sample: MetricSample): boolean {
    if (this.#closed) {
      this.#stats.droppedMetrics++;
      return false;
    }
    let row: MetricRow;
    try {
      row = toMetricRow(sample, Date.now());
    } catch (err) {
      this.#reject(err as Error, 'recordMetric');
      return false;
    }
    this.#stats.droppedMetrics += this.#metrics.push(row);
    if (this.#metrics.size >= this.#batchSize) this.#scheduleKick();
    return true;
  }

  /** Applies a session update; false when refused. Never throws. */
  session(update: SessionEnd, kind: 'open' | 'update' | 'close'): boolean {
    if (this.#closed) {
      this.#stats.droppedSessionUpdates++;
      return false;
    }
    try {
      const key = sessionKey(update);
      const now = Date.now();
      let t = this.#sessions.get(key);
      if (!t) {
        if (this.#sessions.size >= this.#maxSessions) {
          this.#stats.droppedSessionUpdates++;
          return false;
        }
        t = { row: newSessionRow(update, now), version: 0, closed: false };
        t.row = applySession(t.row, update, now, kind === 'close');
        this.#sessions.set(key, t);
      } else {
        t.row = applySession(t.row, update, now, kind === 'close');
      }
      if (kind === 'open') t.closed = false;
      if (kind === 'close') t.closed = true;
      t.version++;
      this.#dirty.add(key);
      if (this.#dirty.size >= this.#batchSize) this.#scheduleKick();
      return true;
    } catch (err) {
      this.#reject(err as Error, `session ${kind}`);
      return false;
    }
  }

  /**
   * Writes everything queued when called (and what arrives meanwhile, within as many batches as
   * were waiting then). Rejects when a write failed; the rows are back in the queue then.
   */
  async flush(): Promise<void> {
    while (this.#inflight) await this.#inflight.catch(() => {});
    await this.#run();
  }

  /** Stops the timer, refuses new rows, writes what is queued. Rejects if that write failed. */
  async close(): Promise<void> {
    if (this.#closed) return this.flush();
    this.#closed = true;
    clearInterval(this.#timer);
    await this.flush();
  }

  stats(): WriteQueueStats {
    return { queuedMetrics: this.#metrics.size, trackedSessions: this.#sessions.size, dirtySessions: this.#dirty.size, ...this.#stats };
  }

  #reject(err: Error, context: string): void {
    this.#stats.rejectedRows++;
    // One report per second at most: a caller stuck on a bad value must not flood the log.
    const now = Date.now();
    if (now - this.#rejectReported >= 1000) {
      this.#rejectReported = now;
      this.#onError(err, `${context}: row refused (${this.#stats.rejectedRows} so far)`);
    }
  }

  #scheduleKick(): void {
    if (this.#kickScheduled || this.#inflight) return;
    this.#kickScheduled = true;
    setImmediate(() => {
      this.#kickScheduled = false;
      this.#background();
    });
  }

  #background(): void {
    if (this.#inflight) return;
    if (this.#metrics.size === 0 && this.#dirty.size === 0) return;
    this.#run().catch((err: Error) => this.#onError(err, 'writing queued metrics and sessions (will retry)'));
  }

  #run(): Promise<void> {
    const p = this.#drain().finally(() => {
      this.#inflight = null;
      if (this.#metrics.size >= this.#batchSize || this.#dirty.size >= this.#batchSize) this.#scheduleKick();
    });
    this.#inflight = p;
    return p;
  }

  async #drain(): Promise<void> {
    const rounds = Math.ceil(Math.max(this.#metrics.size, this.#dirty.size) / this.#batchSize);
    for (let i = 0; i < rounds; i++) {
      const metrics = this.#metrics.take(this.#batchSize);
      if (metrics.length > 0) await this.#writeMetrics(metrics);
      const sessions = this.#takeDirty();
      if (sessions.length > 0) await this.#writeSessions(sessions);
    }
  }

  async #writeMetrics(rows: MetricRow[]): Promise<void> {
    try {
      const n = await withSystem(this.#db, (tx) => insertMetrics(tx, rows));
      this.#stats.writes++;
      this.#stats.writtenMetrics += n;
    } catch (err) {
      this.#failed(err as Error);
      if (isPermanentError(err)) {
        this.#stats.rejectedRows += rows.length;
        this.#onError(err as Error, `the database refused a batch of ${rows.length} metric rows (dropped)`);
        return;
      }
      this.#stats.droppedMetrics += this.#metrics.unshift(rows);
      throw err;
    }
  }

  #takeDirty(): { key: string; version: number; row: SessionRow }[] {
    const out: { key: string; version: number; row: SessionRow }[] = [];
    for (const key of this.#dirty) {
      if (out.length === this.#batchSize) break;
      const t = this.#sessions.get(key);
      this.#dirty.delete(key);
      if (t) out.push({ key, version: t.version, row: t.row });
    }
    return out;
  }

  async #writeSessions(batch: { key: string; version: number; row: SessionRow }[]): Promise<void> {
    try {
      const n = await withSystem(this.#db, (tx) => upsertSessions(tx, batch.map((b) => b.row)));
      this.#stats.writes++;
      this.#stats.writtenSessions += n;
    } catch (err) {
      this.#failed(err as Error);
      if (isPermanentError(err)) {
        this.#stats.rejectedRows += batch.length;
        this.#onError(err as Error, `the database refused a batch of ${batch.length} session rows (dropped)`);
        this.#forgetWritten(batch);
        return;
      }
      for (const b of batch) this.#dirty.add(b.key);
      throw err;
    }
    this.#forgetWritten(batch);
  }

  /** Closed sessions written at their latest version are no longer tracked. */
  #forgetWritten(batch: { key: string; version: number }[]): void {
    for (const b of batch) {
      const t = this.#sessions.get(b.key);
      if (t && t.closed && t.version === b.version && !this.#dirty.has(b.key)) this.#sessions.delete(b.key);
    }
  }

  #failed(err: Error): void {
    this.#stats.failedWrites++;
    this.#stats.lastError = err.message;
  }
}
