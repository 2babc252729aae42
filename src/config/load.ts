// loadConfig(): every environment variable of the library, the service and its clients, read and
// checked in one place, into one frozen object.
import { invalidCombination, invalidValue, Rejected, shown } from './invalid.js';
import type { AicConfig, AuthConfig, TlsConfig } from './types.js';
import { DEFINITIONS, type VariableName, type VariableValue } from './variables.js';
import { unknownVariableWarnings } from './warnings.js';

/** Environment as loadConfig() takes it: process.env, or any plain map of names to text. */
export type Environment = Record<string, string | undefined>;

/** A variable's value, or undefined when it is unset or blank (`AIC_MODE=` is unset, as compose files write it). */
function read<K extends VariableName>(env: Environment, name: K): VariableValue<K> | undefined {
  const raw: unknown = env[name];
  if (raw === undefined) return undefined;
  const { rule } = DEFINITIONS[name];
  if (typeof raw !== 'string') throw invalidValue(name, 'environment', shown(raw, rule.secret), rule.accepted, 'not text');
  const text = raw.trim();
  if (text.length === 0) return undefined;
  try {
    return rule.fromText(text) as VariableValue<K>;
  } catch (error) {
    if (error instanceof Rejected) throw invalidValue(name, 'environment', shown(raw, rule.secret), rule.accepted, error.why);
    throw error;
  }
}

function tlsConfig(env: Environment): TlsConfig {
  const plaintext = read(env, 'AIC_PLAINTEXT') ?? false;
  const cert = read(env, 'AIC_TLS_CERT') ?? null;
  const key = read(env, 'AIC_TLS_KEY') ?? null;
  const ca = read(env, 'AIC_TLS_CA') ?? null;
  const clientAuth = read(env, 'AIC_TLS_CLIENT_AUTH') ?? false;
  if (plaintext) {
    const tls = [cert && 'AIC_TLS_CERT', key && 'AIC_TLS_KEY', ca && 'AIC_TLS_CA', clientAuth && 'AIC_TLS_CLIENT_AUTH'].filter((n): n is string => typeof n === 'string');
    if (tls.length > 0) throw invalidCombination(`AIC_PLAINTEXT (environment) is true and ${tls.join(', ')} ${tls.length > 1 ? 'are' : 'is'} set: choose TLS (unset AIC_PLAINTEXT) or plaintext (unset ${tls.join(', ')})`);
  }
  if ((cert === null) !== (key === null)) {
    const [set, missing] = cert === null ? ['AIC_TLS_KEY', 'AIC_TLS_CERT'] : ['AIC_TLS_CERT', 'AIC_TLS_KEY'];
    throw invalidCombination(`${missing} (environment) is not set while ${set} is: a certificate and its private key go together (accepted: ${DEFINITIONS.AIC_TLS_KEY.rule.accepted})`);
  }
  if (clientAuth) {
    const missing = [ca === null ? 'AIC_TLS_CA' : '', cert === null ? 'AIC_TLS_CERT' : '', key === null ? 'AIC_TLS_KEY' : ''].filter(Boolean);
    if (missing.length > 0) throw invalidCombination(`AIC_TLS_CLIENT_AUTH (environment) is true but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set: the service verifies client certificates against AIC_TLS_CA and presents AIC_TLS_CERT / AIC_TLS_KEY`);
  }
  return { plaintext, cert, key, ca, clientAuth };
}

function authConfig(env: Environment): AuthConfig {
  const jwtSecret = read(env, 'AIC_JWT_SECRET') ?? null;
  const jwksUrl = read(env, 'AIC_JWKS_URL') ?? null;
  const issuer = read(env, 'AIC_JWT_ISSUER') ?? null;
  const audience = read(env, 'AIC_JWT_AUDIENCE') ?? null;
  const disabled = read(env, 'AIC_AUTH_DISABLED') ?? false;
  if (disabled && (jwtSecret !== null || jwksUrl !== null)) {
    throw invalidCombination('AIC_AUTH_DISABLED (environment) is true but a token key is set (AIC_JWT_SECRET or AIC_JWKS_URL): either verify tokens or not; unset one');
  }
  if (jwtSecret !== null && jwksUrl !== null) {
    throw invalidCombination('AIC_JWT_SECRET and AIC_JWKS_URL (environment) are both set: tokens are verified by one key source, a shared secret (HS256) or the issuer\'s published keys; unset one');
  }
  if (jwtSecret === null && jwksUrl === null && (issuer !== null || audience !== null)) {
    throw invalidCombination(`${issuer !== null ? 'AIC_JWT_ISSUER' : 'AIC_JWT_AUDIENCE'} (environment) is set but no key to verify tokens with: set AIC_JWT_SECRET or AIC_JWKS_URL`);
  }
  return { jwtSecret, jwksUrl, issuer, audience, disabled };
}

/** The URL with its password replaced by `***`. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return '***';
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Reads and checks every variable of docs/configuration.md (CONFIG_VARIABLES) from `env`
 * (default process.env), unset and blank ones taking their defaults. Throws AicError
 * INVALID_CONFIG naming the variable, what was given (never a secret or a database URL) and what
 * is accepted; values that do not go together (a certificate without its key, plaintext with TLS
 * files, two token key sources) are INVALID_CONFIG too. Unknown `AIC_*` / `AI_CORE_*` variables
 * are listed in `warnings`, not refused.
 */
export function loadConfig(env: Environment = process.env): AicConfig {
  if (env === null || typeof env !== 'object') throw invalidCombination('loadConfig(env): env must be an object of variable names to text, such as process.env');
  const grpc = read(env, 'AI_CORE_GRPC_ENDPOINT') ?? DEFINITIONS.AI_CORE_GRPC_ENDPOINT.rule.fromText('localhost:50051');
  const http = read(env, 'AI_CORE_HTTP_ENDPOINT') ?? DEFINITIONS.AI_CORE_HTTP_ENDPOINT.rule.fromText('http://localhost:8000');
  const tls = tlsConfig(env);
  const databaseUrl = read(env, 'DATABASE_URL') ?? null;
  const config: AicConfig = {
    session: {
      enabled: read(env, 'AIC_ENABLED') ?? true,
      mode: read(env, 'AIC_MODE') ?? 'adaptive',
      targetCompressionRatio: read(env, 'AIC_TARGET_COMPRESSION_RATIO') ?? null,
      maxLatencyMs: read(env, 'AIC_MAX_LATENCY_MS') ?? 20,
      minQualityScore: read(env, 'AIC_MIN_QUALITY_SCORE') ?? null,
      enableFallback: read(env, 'AIC_ENABLE_FALLBACK') ?? true,
      dataRetentionHours: read(env, 'AIC_DATA_RETENTION_HOURS') ?? 720,
    },
    engine: {
      executionProvider: read(env, 'AIC_EXECUTION_PROVIDER') ?? 'auto',
      onnxRuntimeDir: read(env, 'AIC_ONNXRUNTIME_DIR') ?? null,
    },
    service: {
      grpc,
      http,
      tls,
      auth: authConfig(env),
      database: { url: databaseUrl, redactedUrl: databaseUrl === null ? null : redactUrl(databaseUrl), dataDir: read(env, 'AIC_DATA_DIR') ?? null },
      prometheus: { enabled: read(env, 'PROMETHEUS_ENABLED') ?? true },
    },
    client: {
      grpc,
      http,
      connectionTimeoutMs: read(env, 'AI_CORE_CONNECTION_TIMEOUT_MS') ?? 5000,
      requestTimeoutMs: read(env, 'AI_CORE_REQUEST_TIMEOUT_MS') ?? 30,
      retryAttempts: read(env, 'AI_CORE_RETRY_ATTEMPTS') ?? 3,
      tls,
    },
    logLevel: read(env, 'LOG_LEVEL') ?? 'info',
    warnings: unknownVariableWarnings(env),
  };
  return deepFreeze(config);
}
