// The AI Core itself, whatever the protocol: one engine, the sessions of every user's streams,
// each user's settings, and the health the service reports. gRPC (grpc/) and HTTP (http/) are
// thin layers over this.
import { AicError, AicMetrics, createEngine, resolveSessionSettings, toSessionOptions, type CompressionMode, type CompressResult, type DecompressedFrame, type Engine, type EngineOptions, type Frame, type NetworkConditions, type Override, type Session, type SessionDefaults, type SessionOverrides, type UserSettings } from '@auralink/aic';
import type { Registry } from 'prom-client';

/** What the core needs of the database layer (service/src/store); every call is off the frame path. */
export interface CoreStore {
  /** The user's stored settings (aic_configs), numbers as numbers; null when the user has none. */
  getUserConfig(userId: string): Promise<Override<UserSettings> | null>;
  sessionOpened?(row: { userId: string; sessionId: string; mode: CompressionMode }): void;
  sessionClosed?(row: { userId: string; sessionId: string; stats: ReturnType<Session['stats']>; modeChanges: number }): void;
  /** The stream goes on under new settings (a mode change): its row is updated, not closed. */
  sessionReconfigured?(row: { userId: string; sessionId: string; mode: CompressionMode; modeChanges: number; stats: ReturnType<Session['stats']> }): void;
  recordFrame?(row: { userId: string; sessionId: string; result: CompressResult; modelType: string }): void;
  healthy?(): Promise<boolean>;
}

export interface CoreOptions {
  engine?: EngineOptions;
  /** Defaults of every session: loadConfig().session (AIC_MODE, AIC_TARGET_COMPRESSION_RATIO, ...). */
  defaults: SessionDefaults;
  registry: Registry;
  store?: CoreStore | undefined;
  /** Sessions of the service at once (across users); default 1024. */
  maxSessions?: number;
  /** Sessions one user may have open at once; default 64 (one user cannot take every session). */
  maxSessionsPerUser?: number;
  /** The longest a frame waits for the user's stored settings before using the last ones read; default 250 ms. */
  settingsTimeoutMs?: number;
}

/** Users whose last settings and latency ring the core remembers (the most recent ones). */
const MAX_REMEMBERED_USERS = 10_000;

interface OpenSession {
  session: Session;
  userId: string;
  sessionId: string;
  /** The options it was opened with, to tell when a frame asks for others. */
  key: string;
  modeChanges: number;
  /** Calls running on it now: a session is not closed for idleness while one runs. */
  busy: number;
}

/** What one request may ask of its session (the frame's mode, target, budget, floor). */
export type FrameOverrides = Override<SessionOverrides>;

/** The last frames' latencies of one user, for the dashboard's live percentiles. */
class LatencyRing {
  readonly #values = new Float64Array(1024);
  #next = 0;
  #filled = 0;

  add(ms: number): void {
    this.#values[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#values.length;
    this.#filled = Math.min(this.#filled + 1, this.#values.length);
  }

  percentiles(): { p50: number | null; p95: number | null; p99: number | null } {
    if (this.#filled === 0) return { p50: null, p95: null, p99: null };
    const sorted = Float64Array.from(this.#values.subarray(0, this.#filled)).sort();
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
    return { p50: at(50), p95: at(95), p99: at(99) };
  }
}

/** What GET /api/v1/aic/live answers: the signed-in user's open sessions now. */
export interface UserLive {
  userId: string;
  openSessions: number;
  frames: number;
  bandwidthSavedBytes: number;
  fallbacks: Record<string, number>;
  /** Over the user's last 1,024 frames. */
  latencyMs: { p50: number | null; p95: number | null; p99: number | null };
}

export class AiCore {
  readonly metrics: AicMetrics;
  #sessions = new Map<string, OpenSession>();
  readonly #opening = new Map<string, Promise<OpenSession>>();
  readonly #perUser = new Map<string, number>();
  readonly #latency = new Map<string, LatencyRing>();
  readonly #lastConfig = new Map<string, Override<UserSettings> | null>();
  #settingsFallbacks = 0;
  readonly #sweeper: NodeJS.Timeout;
  /** Sessions one user may have open at once. */
  readonly maxSessionsPerUser: number;
  #closing = false;
  #closed = false;

  private constructor(
    readonly engine: Engine,
    metrics: AicMetrics,
    readonly options: CoreOptions,
  ) {
    this.metrics = metrics;
    this.maxSessionsPerUser = options.maxSessionsPerUser ?? 64;
    this.#sweeper = setInterval(() => this.#sweep(), 10_000);
    this.#sweeper.unref();
  }

  /** Frames whose user settings came from memory because the database was slow or down. */
  get settingsFallbacks(): number {
    return this.#settingsFallbacks;
  }

  static async start(options: CoreOptions): Promise<AiCore> {
    const metrics = new AicMetrics({ registry: options.registry });
    const engine = await createEngine({ ...options.engine, metrics, maxSessions: options.maxSessions ?? 1024 });
    return new AiCore(engine, metrics, options);
  }

  /** The session options in force for a user's stream: environment < user config < the request's own (src/config). */
  async #settings(userId: string, overrides: FrameOverrides) {
    // Every frame self-contained (interFrames: false): the AI Core's DecompressFrame also decodes
    // without a session, its API has no keyframe request, and a client codes frames locally while
    // the service cannot, so one stream's frames may come from two encoders (docs/api.md).
    return toSessionOptions(resolveSessionSettings(this.options.defaults, await this.#userConfig(userId), overrides), { interFrames: false });
  }

  /**
   * The user's stored settings, or the last ones read when the database is slow or down: a frame
   * never waits on the database for more than settingsTimeoutMs, nor fails because of it (the
   * service reports itself degraded meanwhile). A user never read falls back to the environment.
   */
  async #userConfig(userId: string): Promise<Override<UserSettings> | null> {
    const store = this.options.store;
    if (!store) return null;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.settingsTimeoutMs ?? 250);
    });
    try {
      const got = await Promise.race([store.getUserConfig(userId), timeout]);
      if (got !== 'timeout') {
        this.#lastConfig.set(userId, got);
        if (this.#lastConfig.size > MAX_REMEMBERED_USERS) this.#lastConfig.delete(this.#lastConfig.keys().next().value!);
        return got;
      }
    } catch {
      // the database is down: below
    } finally {
      clearTimeout(timer);
    }
    this.#settingsFallbacks++;
    return this.#lastConfig.get(userId) ?? null;
  }

  /** The user's session of that id, opened (or reconfigured with new settings) as needed. */
  async #session(userId: string, sessionId: string, overrides: FrameOverrides): Promise<OpenSession> {
    const id = `${userId}\u0000${sessionId}`;
    // One opening at a time per session: two first frames arriving together share one session.
    for (let pending = this.#opening.get(id); pending; pending = this.#opening.get(id)) await pending.catch(() => undefined);
    const opening = this.#openOrReuse(id, userId, sessionId, overrides);
    this.#opening.set(id, opening);
    try {
      return await opening;
    } finally {
      if (this.#opening.get(id) === opening) this.#opening.delete(id);
    }
  }

  async #openOrReuse(id: string, userId: string, sessionId: string, overrides: FrameOverrides): Promise<OpenSession> {
    let open = this.#sessions.get(id);
    if (open?.session.closed) {
      // The engine closed it (idle longer than its timeout): its row is closed, a new one starts.
      this.#close(open);
      open = undefined;
    }
    // Draining: the streams and sessions already open finish; no new one starts here.
    if (this.#closed || (this.#closing && !open)) throw Object.assign(new Error('the service is shutting down'), { shuttingDown: true });
    const settings = await this.#settings(userId, overrides);
    const key = JSON.stringify(settings);
    if (open && open.key === key) return open;
    if (!open) {
      const mine = this.#perUser.get(userId) ?? 0;
      if (mine >= this.maxSessionsPerUser) {
        throw new AicError('SESSION_LIMIT', `user ${userId} has ${mine} sessions open (the service allows ${this.maxSessionsPerUser} per user); end finished streams, or wait for idle sessions to expire`);
      }
    }
    const session = this.engine.openSession(settings);
    if (open) {
      // New settings for the same stream (the user's config changed, or the request asked for
      // another mode): the engine session restarts, the stream's row goes on with one more mode change.
      const stats = open.session.stats();
      open.session.close();
      open.session = session;
      open.key = key;
      open.modeChanges++;
      this.options.store?.sessionReconfigured?.({ userId, sessionId, mode: settings.mode ?? 'adaptive', modeChanges: open.modeChanges, stats });
      return open;
    }
    const entry: OpenSession = { session, userId, sessionId, key, modeChanges: 0, busy: 0 };
    this.#sessions.set(id, entry);
    this.#perUser.set(userId, (this.#perUser.get(userId) ?? 0) + 1);
    this.options.store?.sessionOpened?.({ userId, sessionId, mode: settings.mode ?? 'adaptive' });
    return entry;
  }

  #close(entry: OpenSession): void {
    const id = `${entry.userId}\u0000${entry.sessionId}`;
    if (this.#sessions.get(id) !== entry) return;
    this.#sessions.delete(id);
    const left = (this.#perUser.get(entry.userId) ?? 1) - 1;
    if (left > 0) this.#perUser.set(entry.userId, left);
    else this.#perUser.delete(entry.userId);
    const stats = entry.session.stats();
    if (!entry.session.closed) entry.session.close();
    this.options.store?.sessionClosed?.({ userId: entry.userId, sessionId: entry.sessionId, stats, modeChanges: entry.modeChanges });
  }

  /** Sessions the engine closed for idleness leave the core's map, and their rows are closed. */
  #sweep(): void {
    for (const entry of [...this.#sessions.values()]) if (entry.session.closed && entry.busy === 0) this.#close(entry);
  }

  async compress(userId: string, sessionId: string, frame: Frame, overrides: FrameOverrides, network?: NetworkConditions): Promise<CompressResult> {
    const entry = await this.#session(userId, sessionId, overrides);
    entry.busy++;
    try {
      const result = await entry.session.compressFrame(frame, { ...(network ? { network } : {}), whenBusy: 'wait' });
      let ring = this.#latency.get(userId);
      if (!ring) {
        this.#latency.set(userId, (ring = new LatencyRing()));
        // The users seen most recently keep their ring; the oldest goes past the bound.
        if (this.#latency.size > MAX_REMEMBERED_USERS) this.#latency.delete(this.#latency.keys().next().value!);
      }
      ring.add(result.timings.totalMs);
      this.options.store?.recordFrame?.({ userId, sessionId, result, modelType: this.engine.codedBy(result).name });
      return result;
    } finally {
      entry.busy--;
    }
  }

  async decompress(userId: string, sessionId: string | undefined, payload: Buffer): Promise<DecompressedFrame> {
    if (!sessionId) return this.engine.decompressFrame(payload, { whenBusy: 'wait' });
    const entry = await this.#session(userId, `rx:${sessionId}`, {});
    entry.busy++;
    try {
      return await entry.session.decompressFrame(payload, { whenBusy: 'wait' });
    } finally {
      entry.busy--;
    }
  }

  /**
   * The session's predictions for frames like `meta`: from the stream's own session when it is
   * open (never reconfiguring it), else from a session made for the question and closed at once
   * (the user's settings, no history: what a stream's first frame would get).
   */
  async hints(userId: string, sessionId: string, meta: Parameters<Session['getCompressionHints']>[0], network?: NetworkConditions) {
    const open = sessionId ? this.#sessions.get(`${userId}\u0000${sessionId}`) : undefined;
    if (open && !open.session.closed) return open.session.getCompressionHints(meta, network);
    if (this.#closed) throw Object.assign(new Error('the service is shutting down'), { shuttingDown: true });
    const probe = this.engine.openSession(await this.#settings(userId, {}));
    try {
      return probe.getCompressionHints(meta, network);
    } finally {
      probe.close();
    }
  }

  /** Ends a stream's session (its stream ended or was cancelled, or the caller said so); true when one was open. */
  endSession(userId: string, sessionId: string): boolean {
    let ended = false;
    for (const id of [`${userId}\u0000${sessionId}`, `${userId}\u0000rx:${sessionId}`]) {
      const entry = this.#sessions.get(id);
      if (entry) {
        this.#close(entry);
        ended = true;
      }
    }
    return ended;
  }

  /** The user's open sessions now, for the live dashboard. */
  userLive(userId: string): UserLive {
    const out: UserLive = { userId, openSessions: 0, frames: 0, bandwidthSavedBytes: 0, fallbacks: { quality: 0, latency: 0, error: 0, model_unavailable: 0 }, latencyMs: this.#latency.get(userId)?.percentiles() ?? { p50: null, p95: null, p99: null } };
    for (const e of this.#sessions.values()) {
      if (e.userId !== userId || e.session.closed) continue;
      const st = e.session.stats();
      out.openSessions++;
      out.frames += st.framesProcessed;
      out.bandwidthSavedBytes += st.bandwidthSavedBytes;
      for (const [reason, n] of Object.entries(st.fallbacks)) out.fallbacks[reason] = (out.fallbacks[reason] ?? 0) + n;
    }
    return out;
  }

  get activeSessions(): number {
    this.#sweep();
    return this.#sessions.size;
  }

  /** healthy / degraded (with reasons) / unhealthy, as GET /health and HealthCheck report it. */
  async health(): Promise<{ status: 'healthy' | 'degraded' | 'unhealthy'; reasons: string[]; models: string[]; provider: string; databaseConnected: boolean }> {
    const info = this.engine.info();
    const reasons: string[] = [];
    if (info.unavailable.image) reasons.push(`image model unavailable: ${info.unavailable.image}`);
    if (info.unavailable.audio) reasons.push(`audio model unavailable: ${info.unavailable.audio}`);
    if (info.requestedProvider === 'cuda' && info.providerFallbackReason) reasons.push(`execution provider fell back to CPU: ${info.providerFallbackReason.split('\n')[0]}`);
    let databaseConnected = true;
    if (this.options.store?.healthy) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 1000);
      });
      databaseConnected = await Promise.race([this.options.store.healthy().catch(() => false), late]);
      clearTimeout(timer);
      if (!databaseConnected) reasons.push('the database is unreachable: per-user settings and history are not being read or written');
    }
    const providers = [...new Set(info.models.flatMap((m) => [m.encoder.provider]))];
    const status = this.#closing ? 'unhealthy' : reasons.length ? 'degraded' : 'healthy';
    if (this.#closing) reasons.unshift('shutting down');
    return { status, reasons, models: info.models.map((m) => m.name), provider: providers.join(', ') || 'none', databaseConnected };
  }

  get version(): string {
    return this.engine.info().version;
  }

  get closing(): boolean {
    return this.#closing;
  }

  /** Stops accepting frames; frames in flight finish; every session is closed (and written). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing = true;
    clearInterval(this.#sweeper);
    for (const entry of [...this.#sessions.values()]) this.#close(entry);
    await this.engine.close();
    this.metrics.unregister();
  }

  /** Marks the core as closing without closing it yet (readiness goes false first). */
  drain(): void {
    this.#closing = true;
  }
}
