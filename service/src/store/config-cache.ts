// The per-process cache of users' configurations (getUserConfig is asked for on every session
// start; the answer changes rarely). Absent rows are cached too (null).
//
// Entries are dropped by invalidate(userId) when aic_config_changed announces a change (the
// store LISTENs; see store.ts), by clear() when the listening connection was lost (notifications
// may have been missed) and, as a last resort, after ttlMs. A load that was in flight when its key
// was invalidated is not cached: its answer may predate the change.
import type { UserConfig } from './config.js';

export interface ConfigCacheOptions {
  /** Longest an entry is trusted without a notification (default 5 min; 0: no caching). */
  ttlMs?: number;
  /** Most entries kept; the least recently used go first (default 10 000). */
  maxEntries?: number;
}

export interface ConfigCacheStats {
  entries: number;
  hits: number;
  misses: number;
  invalidations: number;
}

interface Entry {
  value: UserConfig | null;
  expires: number;
}

export class ConfigCache {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();
  readonly #loading = new Map<string, Promise<UserConfig | null>>();
  #hits = 0;
  #misses = 0;
  #invalidations = 0;

  constructor(options: ConfigCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 300_000;
    this.#max = options.maxEntries ?? 10_000;
  }

  get(userId: string, load: () => Promise<UserConfig | null>): Promise<UserConfig | null> {
    const e = this.#entries.get(userId);
    if (e && e.expires > Date.now()) {
      this.#hits++;
      this.#entries.delete(userId); // move to the most recently used end
      this.#entries.set(userId, e);
      return Promise.resolve(e.value);
    }
    if (e) this.#entries.delete(userId);
    const pending = this.#loading.get(userId);
    if (pending) return pending;
    this.#misses++;
    const p = load().then((value) => {
      // Still the current load: no invalidation came in meanwhile.
      if (this.#loading.get(userId) === p) {
        this.#loading.delete(userId);
        if (this.#ttlMs > 0) {
          this.#entries.set(userId, { value, expires: Date.now() + this.#ttlMs });
          if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
        }
      }
      return value;
    });
    this.#loading.set(userId, p);
    p.catch(() => {
      if (this.#loading.get(userId) === p) this.#loading.delete(userId);
    });
    return p;
  }

  invalidate(userId: string): void {
    this.#invalidations++;
    this.#entries.delete(userId);
    this.#loading.delete(userId);
  }

  clear(): void {
    this.#invalidations++;
    this.#entries.clear();
    this.#loading.clear();
  }

  stats(): ConfigCacheStats {
    return { entries: this.#entries.size, hits: this.#hits, misses: this.#misses, invalidations: this.#invalidations };
  }
}
