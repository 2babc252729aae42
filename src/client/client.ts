// The AI Core client for media servers: the same compressFrame() / decompressFrame() as a local
// session, served by a remote AI Core over gRPC (service/, proto/auralink/aic/v1/aic.proto). A call
// never stalls on the AI Core: each one has requestTimeoutMs, and when the service is unreachable,
// late, overloaded or failing the frame is coded by a local session instead, counted with the
// reason. After retryAttempts failures in a row the client stops asking the service for
// connectionTimeoutMs (then one call probes it), so a dead service costs no time per frame.
import { readFileSync } from 'node:fs';
import type { AicConfig } from '../config/index.js';
import { AicError } from '../errors.js';
import { createEngine, type Engine, type EngineOptions } from '../engine.js';
import type { Frame } from '../frames.js';
import type { AicMetrics } from '../metrics/prometheus.js';
import type { CompressionMode } from '../modes.js';
import type { NetworkConditions } from '../network.js';
import type { Session } from '../session/session.js';
import type { CompressResult, DecompressedFrame, SessionOptions } from '../session/types.js';
import { loadGrpc, type LoadedGrpc } from './grpc.js';

export interface ClientOptions {
  /** host:port of the AI Core's gRPC (AI_CORE_GRPC_ENDPOINT); default localhost:50051. */
  endpoint?: string;
  /** A Bearer token for the service (a JWT), or a function returning the current one. */
  token?: string | (() => string | Promise<string>);
  /** The longest a call waits for the service before the frame is coded locally (default 30 ms, the guide's request_timeout). */
  requestTimeoutMs?: number;
  /** How long the client leaves the service alone after retryAttempts failures in a row (default 5000 ms, the guide's connection_timeout). */
  connectionTimeoutMs?: number;
  /** Failures in a row before the client stops asking the service for connectionTimeoutMs (default 3). */
  retryAttempts?: number;
  /** TLS to the service: CA bundle, and a client certificate for mutual TLS. Default: TLS with the system's CAs. */
  tls?: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
  /** Plaintext to the service; only when asked for (a sidecar on localhost, tests). */
  plaintext?: boolean;
  /** The engine local fallbacks code on; default one created on first need with `engine` options. */
  local?: Engine;
  engine?: EngineOptions;
  /** The user frames belong to (a token with scope aic:service may act for several). */
  userId?: string;
  /** Counts local fallbacks (aic_fallback_total{reason}) where the application exports metrics. */
  metrics?: AicMetrics;
}

/** Why a frame was coded locally instead of by the AI Core. */
export type ClientFallbackReason = 'unreachable' | 'timeout' | 'overloaded' | 'error';

export interface ClientCompressResult extends CompressResult {
  /** Who coded the frame. */
  servedBy: 'ai-core' | 'local';
  /** When servedBy is 'local': why the AI Core did not. */
  clientFallbackReason?: ClientFallbackReason;
}

export interface ClientStats {
  remote: number;
  local: number;
  fallbacks: Record<ClientFallbackReason, number>;
  /** 'closed': calls go to the service; 'open': the service is left alone until the next probe. */
  breaker: 'closed' | 'open';
}

const FRAME_TYPE: Record<Frame['type'], string> = { video: 'FRAME_TYPE_VIDEO', audio: 'FRAME_TYPE_AUDIO', screen: 'FRAME_TYPE_SCREEN', data: 'FRAME_TYPE_DATA' };
const MODE: Record<CompressionMode, string> = { off: 'COMPRESSION_MODE_OFF', conservative: 'COMPRESSION_MODE_CONSERVATIVE', adaptive: 'COMPRESSION_MODE_ADAPTIVE', aggressive: 'COMPRESSION_MODE_AGGRESSIVE' };
const STATUS: Record<string, CompressResult['status']> = { COMPRESSION_STATUS_SUCCESS: 'success', COMPRESSION_STATUS_FALLBACK: 'fallback', COMPRESSION_STATUS_QUALITY_THRESHOLD_NOT_MET: 'quality_threshold_not_met' };

function bytes(view: ArrayBufferView): Buffer {
  return Buffer.isBuffer(view) ? view : Buffer.from(view.buffer, view.byteOffset, view.byteLength);
}

function toRequest(sessionId: string, userId: string | undefined, frame: Frame, options: SessionOptions, sequence: number, network: NetworkConditions | undefined) {
  const metadata: Record<string, unknown> = { keyframe: frame.keyframe ?? false, timestamp_us: frame.timestamp ?? 0 };
  if (frame.type === 'video' || frame.type === 'screen') Object.assign(metadata, { width: frame.width, height: frame.height, pixel_format: frame.format, fps: frame.fps ?? 0 });
  if (frame.type === 'audio') Object.assign(metadata, { sample_rate: frame.sampleRate, channels: frame.channels, sample_format: frame.format });
  return {
    session_id: sessionId,
    user_id: userId ?? '',
    frame_type: FRAME_TYPE[frame.type],
    frame_data: bytes(frame.data),
    metadata,
    mode: options.mode ? MODE[options.mode] : 'COMPRESSION_MODE_UNSPECIFIED',
    target_compression_ratio: options.targetCompressionRatio ?? 0,
    max_latency_ms: Number.isFinite(options.maxLatencyMs) ? (options.maxLatencyMs ?? 0) : 0,
    min_quality_score: options.minQualityScore ?? 0,
    network: network ? { available_bandwidth_kbps: network.availableBandwidthKbps ?? 0, rtt_ms: network.rttMs ?? 0, packet_loss_percent: network.packetLossPercent ?? 0, jitter_ms: network.jitterMs ?? 0, timestamp_ms: network.timestamp ?? 0 } : null,
    sequence,
  };
}

function fromResponse(r: any, frame: Frame): ClientCompressResult {
  const status = STATUS[r.status];
  if (!status) throw new AicError('INTERNAL', `the AI Core answered status ${String(r.status)}`);
  const mode = (Object.keys(MODE) as CompressionMode[]).find((m) => MODE[m] === r.mode) ?? 'adaptive';
  const quality: CompressResult['quality'] = { score: r.quality?.score ?? 0, verified: Boolean(r.quality?.verified) };
  if (r.quality?.ssim) quality.ssim = r.quality.ssim;
  if (r.quality?.psnr_db) quality.psnrDb = r.quality.psnr_db;
  return {
    payload: r.compressed_data as Buffer,
    status,
    ...(r.fallback_reason ? { fallbackReason: r.fallback_reason } : {}),
    frameType: frame.type,
    codec: r.codec,
    originalBytes: Number(r.original_size),
    compressedBytes: Number(r.compressed_size),
    compressionRatio: r.actual_compression_ratio,
    qualityLevel: null,
    quality,
    timings: { preprocessMs: r.timings?.preprocessing_ms ?? 0, inferenceMs: r.timings?.inference_ms ?? 0, postprocessMs: r.timings?.postprocessing_ms ?? 0, totalMs: r.timings?.total_ms ?? 0 },
    passes: 0,
    mode,
    targetCompressionRatio: 0,
    minQualityScore: 0,
    sequence: Number(r.sequence),
    reductions: [],
    servedBy: 'ai-core',
  } as ClientCompressResult;
}

function fromDecompressResponse(r: any): DecompressedFrame {
  const type = r.frame_type === 'FRAME_TYPE_VIDEO' ? 'video' : r.frame_type === 'FRAME_TYPE_SCREEN' ? 'screen' : r.frame_type === 'FRAME_TYPE_AUDIO' ? 'audio' : 'data';
  const md = r.metadata ?? {};
  const frame: DecompressedFrame = { type, format: type === 'data' ? 'bytes' : type === 'audio' ? md.sample_format : md.pixel_format, data: r.frame_data, timestamp: Number(md.timestamp_us ?? 0), keyframe: Boolean(md.keyframe) } as DecompressedFrame;
  if (type === 'video' || type === 'screen') Object.assign(frame, { width: md.width, height: md.height });
  if (type === 'audio') Object.assign(frame, { sampleRate: md.sample_rate, channels: md.channels });
  return frame;
}

/** Why a failed call falls back: what the gRPC status says of the service. */
function reasonOf(code: number | undefined, status: Record<string, number>): ClientFallbackReason {
  if (code === status.DEADLINE_EXCEEDED || code === status.CANCELLED) return 'timeout';
  if (code === status.UNAVAILABLE) return 'unreachable';
  if (code === status.RESOURCE_EXHAUSTED) return 'overloaded';
  return 'error';
}

/** A gRPC status that means the request itself is wrong: the local engine would refuse it too. */
function isCallerError(code: number | undefined, status: Record<string, number>): boolean {
  return code === status.INVALID_ARGUMENT || code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED;
}

let sessionCounter = 0;

export class AicClient {
  readonly #grpc: LoadedGrpc;
  readonly #stub: any;
  readonly #options: Required<Pick<ClientOptions, 'requestTimeoutMs' | 'connectionTimeoutMs' | 'retryAttempts'>> & ClientOptions;
  #local: Engine | undefined;
  #localPromise: Promise<Engine> | undefined;
  readonly #ownsLocal: boolean;
  #failures = 0;
  #openUntil = 0;
  #closed = false;
  readonly stats: ClientStats = { remote: 0, local: 0, fallbacks: { unreachable: 0, timeout: 0, overloaded: 0, error: 0 }, breaker: 'closed' };

  /** @internal Use createClient(). */
  constructor(options: ClientOptions) {
    const check = (name: string, v: number | undefined, def: number, min: number) => {
      const value = v ?? def;
      if (typeof value !== 'number' || !(value >= min) || !Number.isFinite(value)) throw new AicError('INVALID_ARGUMENT', `options.${name} must be a number >= ${min}, got ${String(v)}`);
      return value;
    };
    this.#options = {
      ...options,
      requestTimeoutMs: check('requestTimeoutMs', options.requestTimeoutMs, 30, 1),
      connectionTimeoutMs: check('connectionTimeoutMs', options.connectionTimeoutMs, 5000, 1),
      retryAttempts: check('retryAttempts', options.retryAttempts, 3, 1),
    };
    this.#grpc = loadGrpc();
    const { grpc } = this.#grpc;
    const read = (v: string | Buffer | undefined) => (v === undefined ? null : Buffer.isBuffer(v) ? v : readFileSync(v));
    const creds = options.plaintext ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(read(options.tls?.ca), read(options.tls?.key), read(options.tls?.cert));
    this.#stub = new this.#grpc.Service(options.endpoint ?? 'localhost:50051', creds, {
      'grpc.max_receive_message_length': 64 * 1024 * 1024 + 65536,
      'grpc.max_send_message_length': 64 * 1024 * 1024 + 65536,
      // Fail fast when the service is down rather than queueing calls until it returns.
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': this.#options.connectionTimeoutMs,
    });
    this.#local = options.local;
    this.#ownsLocal = !options.local;
  }

  /** The engine local fallbacks run on (created on first need). */
  async localEngine(): Promise<Engine> {
    if (this.#local) return this.#local;
    this.#localPromise ??= createEngine(this.#options.engine ?? {}).then((e) => (this.#local = e));
    return this.#localPromise;
  }

  async #metadata(): Promise<object> {
    const md = new this.#grpc.grpc.Metadata();
    const t = this.#options.token;
    const token = typeof t === 'function' ? await t() : t;
    if (token) md.set('authorization', `Bearer ${token}`);
    return md;
  }

  /** True when the service should be asked (the breaker is closed, or its pause is over: a probe). */
  #tryRemote(): boolean {
    if (this.#closed) return false;
    if (this.#failures < this.#options.retryAttempts) return true;
    if (Date.now() >= this.#openUntil) {
      // Probe: one call goes through; a failure reopens the breaker for another pause.
      this.#openUntil = Date.now() + this.#options.connectionTimeoutMs;
      return true;
    }
    return false;
  }

  #succeeded(): void {
    this.#failures = 0;
    this.stats.breaker = 'closed';
    this.stats.remote++;
  }

  #failed(reason: ClientFallbackReason): void {
    this.#failures++;
    if (this.#failures >= this.#options.retryAttempts) {
      if (this.stats.breaker === 'closed') this.#openUntil = Date.now() + this.#options.connectionTimeoutMs;
      this.stats.breaker = 'open';
    }
    this.stats.fallbacks[reason]++;
    this.stats.local++;
    this.#options.metrics?.recordFallback(`client_${reason}`);
  }

  /** @internal One unary call with the request deadline; resolves with the response or rejects with the gRPC error. */
  async call(method: string, request: unknown): Promise<any> {
    const md = await this.#metadata();
    const deadline = Date.now() + this.#options.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      this.#stub[method](request, md, { deadline }, (error: (Error & { code?: number }) | null, response: unknown) => (error ? reject(error) : resolve(response)));
    });
  }

  /** @internal Runs `remote` unless the breaker is open; falls back to `local` with the reason. Caller errors are thrown. */
  async withFallback<T>(remote: () => Promise<T>, local: (reason: ClientFallbackReason) => Promise<T>): Promise<T> {
    if (!this.#tryRemote()) {
      this.stats.local++;
      this.stats.fallbacks.unreachable++;
      this.#options.metrics?.recordFallback('client_unreachable');
      return local('unreachable');
    }
    try {
      const out = await remote();
      this.#succeeded();
      return out;
    } catch (error) {
      const code = (error as { code?: number }).code;
      const status = this.#grpc.grpc.status;
      if (isCallerError(code, status)) {
        // Not the service's fault: the same request would fail locally; say what the service said.
        const details = (error as { details?: string }).details ?? (error as Error).message;
        throw new AicError(code === status.INVALID_ARGUMENT ? 'INVALID_ARGUMENT' : 'INVALID_CONFIG', `the AI Core refused the request: ${details}`, { cause: error });
      }
      const reason = reasonOf(code, status);
      this.#failed(reason);
      return local(reason);
    }
  }

  /** Opens a session: frames of one stream, coded by the AI Core (or locally when it cannot). */
  openSession(options: SessionOptions & { sessionId?: string } = {}): ClientSession {
    if (this.#closed) throw new AicError('CLOSED', 'the client is closed');
    const sessionId = options.sessionId ?? `client-${process.pid}-${++sessionCounter}`;
    return new ClientSession(this, sessionId, options, this.#options.userId);
  }

  /** Decodes a payload (no session state: images, lossless, a first neural audio frame). */
  async decompressFrame(payload: ArrayBufferView): Promise<DecompressedFrame> {
    const data = bytes(payload);
    return this.withFallback(
      async () => fromDecompressResponse(await this.call('DecompressFrame', { compressed_data: data, user_id: this.#options.userId ?? '' })),
      async () => (await this.localEngine()).decompressFrame(data),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stub.close();
    if (this.#ownsLocal) await (this.#local ?? (await this.#localPromise?.catch(() => undefined)))?.close();
  }
}

export class ClientSession {
  #sequence = 0;
  #local: Session | undefined;
  #closed = false;

  /** @internal Use client.openSession(). */
  constructor(
    readonly client: AicClient,
    readonly sessionId: string,
    readonly options: SessionOptions,
    readonly userId: string | undefined,
  ) {}

  async #localSession(): Promise<Session> {
    // Intra frames, as the AI Core codes them: the receiver may decode this stream's frames remotely
    // or here, so no frame may depend on a reference the other side holds.
    if (!this.#local || this.#local.closed) this.#local = (await this.client.localEngine()).openSession({ ...this.options, sessionId: `${this.sessionId}-local`, interFrames: false });
    return this.#local;
  }

  /** Compresses a frame: by the AI Core within requestTimeoutMs, else locally (result.servedBy, result.clientFallbackReason). */
  async compressFrame(frame: Frame, options: { network?: NetworkConditions } = {}): Promise<ClientCompressResult> {
    if (this.#closed) throw new AicError('CLOSED', `session '${this.sessionId}' is closed`);
    if (frame === null || typeof frame !== 'object' || !ArrayBuffer.isView((frame as Frame).data)) throw new AicError('INVALID_ARGUMENT', 'compressFrame() takes a frame { type, data, ... } whose data is a Buffer or typed array');
    const sequence = this.#sequence++;
    return this.client.withFallback(
      async () => fromResponse(await this.client.call('CompressFrame', toRequest(this.sessionId, this.userId, frame, this.options, sequence, options.network)), frame),
      async (reason) => {
        const r = await (await this.#localSession()).compressFrame(frame, options.network ? { network: options.network } : {});
        return Object.assign(r, { servedBy: 'local' as const, clientFallbackReason: reason });
      },
    );
  }

  /** Decodes a payload of this stream: by the AI Core, else locally. */
  async decompressFrame(payload: ArrayBufferView): Promise<DecompressedFrame> {
    if (this.#closed) throw new AicError('CLOSED', `session '${this.sessionId}' is closed`);
    const data = bytes(payload);
    return this.client.withFallback(
      async () => fromDecompressResponse(await this.client.call('DecompressFrame', { session_id: this.sessionId, user_id: this.userId ?? '', compressed_data: data })),
      async () => (await this.#localSession()).decompressFrame(data),
    );
  }

  /** Ends the session, here and on the AI Core (which frees its state now, not after its idle timeout). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#local?.close();
    // Fire and forget: a service that is down has nothing to free, and close() never waits on it.
    this.client.call('EndSession', { session_id: this.sessionId, user_id: this.userId ?? '' }).catch(() => undefined);
  }
}

/** A client of a remote AI Core (service/) with local fallback; needs @grpc/grpc-js installed. */
export async function createClient(options: ClientOptions = {}): Promise<AicClient> {
  if (options === null || typeof options !== 'object') throw new AicError('INVALID_ARGUMENT', 'createClient() takes an options object');
  return new AicClient(options);
}

/** createClient() options from the environment (loadConfig().client: AI_CORE_GRPC_ENDPOINT, AI_CORE_REQUEST_TIMEOUT_MS, ...). */
export function clientOptionsFrom(config: Pick<AicConfig, 'client'>): ClientOptions {
  const c = config.client;
  const tls: NonNullable<ClientOptions['tls']> = {};
  if (c.tls.ca) tls.ca = c.tls.ca;
  if (c.tls.cert) tls.cert = c.tls.cert;
  if (c.tls.key) tls.key = c.tls.key;
  return {
    endpoint: c.grpc.address,
    requestTimeoutMs: c.requestTimeoutMs,
    connectionTimeoutMs: c.connectionTimeoutMs,
    retryAttempts: c.retryAttempts,
    ...(c.tls.plaintext ? { plaintext: true } : { tls }),
  };
}
