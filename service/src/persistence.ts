// Between the core and the database layer (service/src/store): per-user settings for sessions,
// and the rows of sessions and metrics, written in batches off the frame path. A frame only adds
// to its session's window here (no query, no allocation of a row); every `intervalMs` each window
// with frames becomes one aic_metrics row and the session's aic_sessions row is updated, all
// through the store's bounded write queue.
import type { CompressResult, Override, UserSettings } from '@auralink/aic';
import type { CoreStore } from './core.js';
import type { HttpStore } from './http/server.js';
import type { Store, UserConfig, UserConfigPatch } from './store/index.js';

interface Window {
  userId: string;
  sessionId: string;
  frameType: string;
  mode: string;
  modelType: string;
  frames: number;
  fallbacks: number;
  ratioSum: number;
  qualitySum: number;
  latencySum: number;
  bytesIn: number;
  bytesOut: number;
  // Lifetime of the session, for its aic_sessions row.
  totalFrames: number;
  totalCompressed: number;
  totalFallbacks: number;
  totalRatio: number;
  totalQuality: number;
  totalLatency: number;
  totalIn: number;
  totalOut: number;
}

/** The user's aic_configs row as the session settings take it (src/config's Override<UserSettings>). */
export function userSettingsOf(c: UserConfig | null): Override<UserSettings> | null {
  if (!c) return null;
  return {
    enabled: c.enabled,
    mode: c.mode,
    targetCompressionRatio: c.targetCompressionRatio,
    maxLatencyMs: c.maxLatencyMs,
    minQualityScore: c.minQualityScore,
    enableFallback: c.fallbackOnQualityLoss,
    useGpu: c.useGpu,
    modelType: c.modelType,
    modelVersion: c.modelVersion,
    optOut: c.optOut,
    dataRetentionHours: c.dataRetentionHours,
  } as Override<UserSettings>;
}

export class Persistence implements CoreStore, HttpStore {
  readonly #windows = new Map<string, Window>();
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly store: Store,
    readonly intervalMs = 1000,
  ) {
    this.#timer = setInterval(() => this.tick(), intervalMs);
    this.#timer.unref();
  }

  async getUserConfig(userId: string): Promise<Override<UserSettings> | null> {
    return userSettingsOf(await this.store.getUserConfig(userId));
  }

  async getConfigRow(userId: string): Promise<Record<string, unknown> | null> {
    return (await this.store.getUserConfig(userId)) as unknown as Record<string, unknown> | null;
  }

  async setUserConfig(userId: string, patch: Record<string, unknown>): Promise<Record<string, unknown>> {
    return (await this.store.setUserConfig(userId, patch as UserConfigPatch)) as unknown as Record<string, unknown>;
  }

  userMetrics(userId: string, range: { from: Date; to: Date; bucketSeconds?: number }): Promise<unknown> {
    return this.store.userMetrics(userId, range);
  }

  async healthy(): Promise<boolean> {
    await this.store.ping();
    return true;
  }

  sessionOpened(row: { userId: string; sessionId: string; mode: string }): void {
    this.store.sessionOpened({ userId: row.userId, sessionId: row.sessionId, mode: row.mode as never });
  }

  recordFrame(row: { userId: string; sessionId: string; result: CompressResult; modelType?: string }): void {
    const key = `${row.userId}\u0000${row.sessionId}`;
    let w = this.#windows.get(key);
    const r = row.result;
    if (!w) {
      w = { userId: row.userId, sessionId: row.sessionId, frameType: r.frameType, mode: r.mode, modelType: r.codec, frames: 0, fallbacks: 0, ratioSum: 0, qualitySum: 0, latencySum: 0, bytesIn: 0, bytesOut: 0, totalFrames: 0, totalCompressed: 0, totalFallbacks: 0, totalRatio: 0, totalQuality: 0, totalLatency: 0, totalIn: 0, totalOut: 0 };
      this.#windows.set(key, w);
    }
    const fallback = r.status !== 'success' ? 1 : 0;
    w.mode = r.mode;
    w.frameType = r.frameType;
    w.modelType = row.modelType ?? r.codec;
    w.frames++;
    w.fallbacks += fallback;
    w.ratioSum += r.compressionRatio;
    w.qualitySum += r.quality.score;
    w.latencySum += r.timings.totalMs;
    w.bytesIn += r.originalBytes;
    w.bytesOut += r.compressedBytes;
    w.totalFrames++;
    w.totalCompressed += r.codec === 'neural-image' || r.codec === 'neural-audio' ? 1 - fallback : 0;
    w.totalFallbacks += fallback;
    w.totalRatio += r.compressionRatio;
    w.totalQuality += r.quality.score;
    w.totalLatency += r.timings.totalMs;
    w.totalIn += r.originalBytes;
    w.totalOut += r.compressedBytes;
  }

  sessionReconfigured(row: { userId: string; sessionId: string; mode: string; modeChanges: number }): void {
    const w = this.#windows.get(`${row.userId}\u0000${row.sessionId}`);
    this.#emit(w);
    this.store.sessionUpdated({ userId: row.userId, sessionId: row.sessionId, mode: row.mode as never, modeChanges: row.modeChanges, ...(w ? this.#progress(w) : {}) });
  }

  sessionClosed(row: { userId: string; sessionId: string; modeChanges: number }): void {
    const key = `${row.userId}\u0000${row.sessionId}`;
    const w = this.#windows.get(key);
    this.#emit(w);
    this.#windows.delete(key);
    this.store.sessionClosed({ userId: row.userId, sessionId: row.sessionId, modeChanges: row.modeChanges, ...(w ? this.#progress(w) : {}) });
  }

  #progress(w: Window) {
    const n = w.totalFrames;
    return {
      framesProcessed: n,
      framesCompressed: w.totalCompressed,
      framesFallback: w.totalFallbacks,
      avgCompressionRatio: n ? Math.max(0, Math.min(0.999999, w.totalRatio / n)) : null,
      avgLatencyMs: n ? w.totalLatency / n : null,
      avgQualityScore: n ? Math.max(0, Math.min(1, w.totalQuality / n)) : null,
      bytesIn: w.totalIn,
      bytesOut: w.totalOut,
    };
  }

  /** One aic_metrics row for the window's frames since the last tick, and the session row's progress. */
  #emit(w: Window | undefined): void {
    if (!w || w.frames === 0) return;
    this.store.recordMetric({
      userId: w.userId,
      sessionId: w.sessionId,
      frameType: w.frameType as never,
      mode: w.mode as never,
      modelType: w.modelType,
      frames: w.frames,
      fallbacks: w.fallbacks,
      compressionRatio: Math.max(0, Math.min(0.999999, w.ratioSum / w.frames)),
      qualityScore: Math.max(0, Math.min(1, w.qualitySum / w.frames)),
      latencyMs: w.latencySum / w.frames,
      bytesIn: w.bytesIn,
      bytesOut: w.bytesOut,
    });
    this.store.sessionUpdated({ userId: w.userId, sessionId: w.sessionId, mode: w.mode as never, ...this.#progress(w) });
    w.frames = w.fallbacks = w.ratioSum = w.qualitySum = w.latencySum = w.bytesIn = w.bytesOut = 0;
  }

  /** Turns every window with frames into rows (the timer calls this every intervalMs). */
  tick(): void {
    for (const w of this.#windows.values()) this.#emit(w);
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.tick();
    await this.store.close();
  }
}
