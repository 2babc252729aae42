// The shape of the configuration loadConfig() returns. Each field names the variable it is read
// from and its default; docs/configuration.md has the same in one table (CONFIG_VARIABLES).
import type { ExecutionProvider } from '../engine.js';
import type { CompressionMode } from '../modes.js';
import type { HostPort, HttpUrl, LogLevel } from './rules.js';

export type { HostPort, HttpUrl, LogLevel };

/**
 * What sessions get unless a user's config or the session's own options say otherwise
 * (resolveSessionSettings(): session options > user config > these).
 */
export interface SessionDefaults {
  /**
   * `AIC_ENABLED`; default `true`. `false`: sessions are opened in mode 'off' (frames pass
   * through, counted), and a client may leave the AI Core out of the media path altogether.
   */
  readonly enabled: boolean;
  /** `AIC_MODE`; default `'adaptive'`. */
  readonly mode: CompressionMode;
  /**
   * `AIC_TARGET_COMPRESSION_RATIO` (1 - compressed/original, from 0 up to but not including 1);
   * default `null`: the mode's (conservative 0.50, adaptive 0.80, aggressive 0.90).
   */
  readonly targetCompressionRatio: number | null;
  /** `AIC_MAX_LATENCY_MS`: one frame's latency budget; default `20`; `Infinity` for none. */
  readonly maxLatencyMs: number;
  /**
   * `AIC_MIN_QUALITY_SCORE`: the quality floor in [0, 1]; default `null`: the mode's
   * (conservative 0.95, adaptive 0.85, aggressive 0.70).
   */
  readonly minQualityScore: number | null;
  /** `AIC_ENABLE_FALLBACK`: frames the neural path cannot serve go down the fallback ladder; default `true`. */
  readonly enableFallback: boolean;
  /**
   * `AIC_DATA_RETENTION_HOURS`: how long the service keeps a user's per-call metrics and session
   * rows (never frames: those live in memory only); default `720` (30 days). A user's config may
   * set its own (aic_configs.data_retention_hours); a session cannot.
   */
  readonly dataRetentionHours: number;
}

/** The engine of the process (one per process, shared by its sessions). */
export interface EngineConfig {
  /**
   * `AIC_EXECUTION_PROVIDER`; default `'auto'`: CUDA where this ONNX Runtime has it, else CPU with
   * the reason recorded (EngineOptions.executionProvider).
   */
  readonly executionProvider: ExecutionProvider;
  /**
   * `AIC_ONNXRUNTIME_DIR`: an ONNX Runtime release folder to load instead of the bundled copy;
   * default `null`. The native loader reads the variable itself when the addon loads (README,
   * "CUDA"); it is here so that it is listed and shown with the rest.
   */
  readonly onnxRuntimeDir: string | null;
}

/**
 * Transport security of the gRPC service and of its clients. The same variables serve both sides:
 * the service presents `cert`/`key` and, with `clientAuth`, requires client certificates signed by
 * `ca`; a client trusts `ca` (else the system's roots) and presents `cert`/`key` when given (mutual
 * TLS). serviceTransport() and clientTransport() turn this into what each side uses.
 */
export interface TlsConfig {
  /**
   * `AIC_PLAINTEXT`; default `false`. Only `true` lets gRPC go without TLS; it cannot be combined
   * with any `AIC_TLS_*` variable.
   */
  readonly plaintext: boolean;
  /** `AIC_TLS_CERT`: a PEM certificate (chain) file, absolute path; default `null`. Needs `AIC_TLS_KEY`. */
  readonly cert: string | null;
  /** `AIC_TLS_KEY`: the PEM private key file of `cert`, absolute path; default `null`. Needs `AIC_TLS_CERT`. */
  readonly key: string | null;
  /** `AIC_TLS_CA`: a PEM file of the certificate authorities to trust, absolute path; default `null` (the system's roots). */
  readonly ca: string | null;
  /** `AIC_TLS_CLIENT_AUTH`: the service requires client certificates signed by `ca`; default `false`. Needs `AIC_TLS_CA`, `AIC_TLS_CERT` and `AIC_TLS_KEY`. */
  readonly clientAuth: boolean;
}

/**
 * How the service's HTTP API checks `Authorization: Bearer <JWT>` (the configuration and metrics
 * routes; `/health` and `/metrics` are open). One key source at most: a shared secret or a JWKS.
 */
export interface AuthConfig {
  /** `AIC_JWT_SECRET`: an HS256 shared secret of at least 32 characters; default `null`. */
  readonly jwtSecret: string | null;
  /** `AIC_JWKS_URL`: where the public keys of the issuer are published (https); default `null`. */
  readonly jwksUrl: string | null;
  /** `AIC_JWT_ISSUER`: the `iss` a token must carry; default `null`: not checked. */
  readonly issuer: string | null;
  /** `AIC_JWT_AUDIENCE`: comma-separated; a token's `aud` must hold one of them; default `null`: not checked. */
  readonly audience: readonly string[] | null;
  /** `AIC_AUTH_DISABLED`: no token verification at all (local experiments); default `false`. */
  readonly disabled: boolean;
}

/** The reference AI Core service (`service/`): what it listens on and what it uses. */
export interface ServiceConfig {
  /** `AI_CORE_GRPC_ENDPOINT`: the address the gRPC server listens on; default `localhost:50051`. */
  readonly grpc: HostPort;
  /** `AI_CORE_HTTP_ENDPOINT`: the HTTP API listens on its host and port; default `http://localhost:8000`. */
  readonly http: HttpUrl;
  readonly tls: TlsConfig;
  readonly auth: AuthConfig;
  readonly database: {
    /** `DATABASE_URL`: a PostgreSQL URL; default `null`: the embedded database (PGlite). */
    readonly url: string | null;
    /** `url` with its password replaced by `***`, for logs; `null` with it. */
    readonly redactedUrl: string | null;
    /** `AIC_DATA_DIR`: where the embedded database keeps its files without `url`; default `null`: in memory. */
    readonly dataDir: string | null;
  };
  readonly prometheus: {
    /** `PROMETHEUS_ENABLED`: serve Prometheus metrics at `/metrics` of the HTTP API; default `true`. */
    readonly enabled: boolean;
  };
}

/** A media server's connection to the AI Core service (the reference's WebRTC-server `aic:` block). */
export interface ClientConfig {
  /** `AI_CORE_GRPC_ENDPOINT`: the service's gRPC address; default `localhost:50051`. */
  readonly grpc: HostPort;
  /** `AI_CORE_HTTP_ENDPOINT`: the service's HTTP API; default `http://localhost:8000`. */
  readonly http: HttpUrl;
  /** `AI_CORE_CONNECTION_TIMEOUT_MS`: how long to wait for the connection; default `5000`. */
  readonly connectionTimeoutMs: number;
  /** `AI_CORE_REQUEST_TIMEOUT_MS`: the deadline of one frame's call; default `30`. */
  readonly requestTimeoutMs: number;
  /** `AI_CORE_RETRY_ATTEMPTS`: retries of a failed call (the frame goes without AI after the last); default `3`. */
  readonly retryAttempts: number;
  readonly tls: TlsConfig;
}

/** Everything loadConfig() reads, validated, frozen. */
export interface AicConfig {
  readonly session: SessionDefaults;
  readonly engine: EngineConfig;
  readonly service: ServiceConfig;
  readonly client: ClientConfig;
  /** `LOG_LEVEL`: debug, info, warn, error or silent; default `'info'`. */
  readonly logLevel: LogLevel;
  /**
   * What looked wrong but is not an error: `AIC_*` and `AI_CORE_*` variables that nothing reads
   * (a typo such as `AIC_MOED` names the variable it resembles). Empty when all is well.
   */
  readonly warnings: readonly string[];
}
