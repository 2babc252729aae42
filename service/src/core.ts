// The AI Core itself, whatever the protocol: one engine, the sessions of every user's streams,
// each user's settings, and the health the service reports. gRPC (grpc/) and HTTP (http/) are
// thin layers over this.
import { AicMetrics, createEngine, resolveSessionSettings, toSessionOptions, type CompressionMode, type CompressResult, type DecompressedFrame, type Engine, type EngineOptions, type Frame, type NetworkConditions, type Override, type Session, type SessionDefaults, type SessionOverrides, type UserSettings } from '@auralink/aic';
import type { Registry } from 'prom-client';

/** What the core needs of the database layer (service/src/store); every call is off the frame path. */
export interface CoreStore {
  /** The user's stored settings (aic_configs), numbers as numbers; null when the user has none. */
  getUserConfig(userId: string): Promise<Override<UserSettings> | null>;
  sessionOpened?(row: { userId: string; sessionId: string; mode: CompressionMode }): void;
  sessionClosed?(row: { userId: string; sessionId: string; stats: ReturnType<Session['stats']>; modeChanges: number }): void;
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
}

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
  readonly #latency = new Map<string, LatencyRing>();
  #closing = false;
  #closed = false;

  private constructor(
    readonly engine: Engine,
    metrics: AicMetrics,
    readonly options: CoreOptions,
  ) {
    this.metrics = metrics;
  }

  static async start(options: CoreOptions): Promise<AiCore> {
    const metrics = new AicMetrics({ registry: options.registry });
    const engine = await createEngine({ ...options.engine, metrics, maxSessions: options.maxSessions ?? 1024 });
    return new AiCore(engine, metrics, options);
  }

  /** The session options in force for a user's stream: environment < user config < the request's own (src/config). */
  async #settings(userId: string, overrides: FrameOverrides) {
    const user = (await this.options.store?.getUserConfig(userId)) ?? null;
    return toSessionOptions(resolveSessionSettings(this.options.defaults, user, overrides));
  }

  /** The user's session of that id, opened (or reopened with new settings) as needed. */
  async #session(userId: string, sessionId: string, overrides: FrameOverrides): Promise<OpenSession> {
    const id = `${userId}\u0000${sessionId}`;
    const open = this.#sessions.get(id);
    // Draining: the streams and sessions already open finish; no new one starts here.
    if (this.#closed || (this.#closing && !open)) throw Object.assign(new Error('the service is shutting down'), { shuttingDown: true });
    const settings = await this.#settings(userId, overrides);
    const key = JSON.stringify(settings);
    if (open && !open.session.closed && open.key === key) return open;
    const modeChanges = open ? open.modeChanges + (open.key !== key ? 1 : 0) : 0;
    if (open) this.#close(open);
    const session = this.engine.openSession(settings);
    const entry: OpenSession = { session, userId, sessionId, key, modeChanges, busy: 0 };
    this.#sessions.set(id, entry);
    this.options.store?.sessionOpened?.({ userId, sessionId, mode: settings.mode ?? 'adaptive' });
    return entry;
  }

  #close(entry: OpenSession): void {
    const id = `${entry.userId}\u0000${entry.sessionId}`;
    if (this.#sessions.get(id) === entry) this.#sessions.delete(id);
    if (!entry.session.closed) {
      const stats = entry.session.stats();
      entry.session.close();
      this.options.store?.sessionClosed?.({ userId: entry.userId, sessionId: entry.sessionId, stats, modeChanges: entry.modeChanges });
    }
  }

  async compress(userId: string, sessionId: string, frame: Frame, overrides: FrameOverrides, network?: NetworkConditions): Promise<CompressResult> {
    const entry = await this.#session(userId, sessionId, overrides);
    entry.busy++;
    try {
      const result = await entry.session.compressFrame(frame, { ...(network ? { network } : {}), whenBusy: 'wait' });
      let ring = this.#latency.get(userId);
      if (!ring) this.#latency.set(userId, (ring = new LatencyRing()));
      ring.add(result.timings.totalMs);
      this.options.store?.recordFrame?.({ userId, sessionId, result, modelType: this.modelLabel(result) });
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

  async hints(userId: string, sessionId: string, meta: Parameters<Session['getCompressionHints']>[0], network?: NetworkConditions) {
    const entry = await this.#session(userId, sessionId || 'hints', {});
    return entry.session.getCompressionHints(meta, network);
  }

  /** Ends a stream's session (its stream ended or was cancelled). */
  endSession(userId: string, sessionId: string): void {
    for (const id of [`${userId}\u0000${sessionId}`, `${userId}\u0000rx:${sessionId}`]) {
      const entry = this.#sessions.get(id);
      if (entry) this.#close(entry);
    }
  }

  /** The model or codec that coded a result: the neural model's name, else the ladder's codec. */
  modelLabel(r: CompressResult): string {
    const c = this.engine.info().codecs;
    if (r.codec === 'neural-image') return c.image?.name ?? r.codec;
    if (r.codec === 'neural-audio') return c.audio?.name ?? r.codec;
    return r.codec === 'deflate' || r.codec === 'stored' ? 'lossless' : r.codec;
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
      databaseConnected = await this.options.store.healthy().catch(() => false);
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
    for (const entry of [...this.#sessions.values()]) this.#close(entry);
    await this.engine.close();
    this.metrics.unregister();
  }

  /** Marks the core as closing without closing it yet (readiness goes false first). */
  drain(): void {
    this.#closing = true;
  }
}
