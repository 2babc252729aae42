// Every environment variable loadConfig() reads: its rule, its default and what it means, in the
// order docs/configuration.md and `--help` print them. loadConfig() reads each through this table,
// so the accepted values an error names and those the docs print are the same words.
import type { ExecutionProvider } from '../engine.js';
import {
  booleanRule,
  enumRule,
  fileRule,
  hostPortRule,
  httpUrlRule,
  jwksUrlRule,
  jwtSecretRule,
  latencyRule,
  listRule,
  logLevelRule,
  modeRule,
  nonEmptyTextRule,
  postgresUrlRule,
  qualityRule,
  ratioRule,
  retentionRule,
  retryRule,
  timeoutRule,
  type Rule,
} from './rules.js';

/** One environment variable, as the docs print it. */
export interface ConfigVariable {
  /** The variable's name, e.g. `AIC_MODE`. */
  readonly name: string;
  /** What it accepts, e.g. `off, conservative, adaptive or aggressive`. */
  readonly accepted: string;
  /** Its default, in words, e.g. `adaptive`. */
  readonly default: string;
  /** What it does. */
  readonly meaning: string;
  /** Where loadConfig() puts it in AicConfig, e.g. `session.mode`. */
  readonly fields: readonly string[];
}

interface Definition<T> {
  readonly rule: Rule<T>;
  readonly default: string;
  readonly meaning: string;
  readonly fields: readonly string[];
}

function def<T>(rule: Rule<T>, fields: string[], dflt: string, meaning: string): Definition<T> {
  return { rule, fields, default: dflt, meaning };
}

const providerRule = enumRule<ExecutionProvider>(['cpu', 'cuda', 'auto']);
const folderRule: Rule<string> = { ...nonEmptyTextRule, accepted: 'a folder path' };

/** @internal The rules loadConfig() reads each variable by. */
export const DEFINITIONS = {
  AIC_ENABLED: def(booleanRule, ['session.enabled'], 'true', "Compress at all. false: sessions open in mode 'off' (frames pass through, counted) and a client may leave the AI Core out of the media path."),
  AIC_MODE: def(modeRule, ['session.mode'], 'adaptive', 'The compression mode of sessions that neither the user nor the session chooses.'),
  AIC_TARGET_COMPRESSION_RATIO: def(ratioRule, ['session.targetCompressionRatio'], "the mode's: conservative 0.50, adaptive 0.80, aggressive 0.90", 'The share of bytes a session aims to save at least (1 - compressed/original).'),
  AIC_MAX_LATENCY_MS: def(latencyRule, ['session.maxLatencyMs'], '20', "One frame's latency budget: a frame predicted to miss it goes down the fallback ladder."),
  AIC_MIN_QUALITY_SCORE: def(qualityRule, ['session.minQualityScore'], "the mode's: conservative 0.95, adaptive 0.85, aggressive 0.70", 'The quality floor (SSIM for video and screen, the audio score for audio) a neural frame must reach.'),
  AIC_ENABLE_FALLBACK: def(booleanRule, ['session.enableFallback'], 'true', 'Frames the neural path cannot serve (quality, latency, error, no model) go down the fallback ladder; false: they go out neural, marked quality_threshold_not_met.'),
  AIC_DATA_RETENTION_HOURS: def(retentionRule, ['session.dataRetentionHours'], '720 (30 days)', "How long the service keeps a user's metrics and session rows (never frames); a user's config may set its own."),
  AIC_EXECUTION_PROVIDER: def(providerRule, ['engine.executionProvider'], 'auto', 'Where the engine runs the models: auto uses CUDA where ONNX Runtime has it, else CPU with the reason recorded.'),
  AIC_ONNXRUNTIME_DIR: def(folderRule, ['engine.onnxRuntimeDir'], 'none: the bundled ONNX Runtime', 'An ONNX Runtime release folder to load instead (e.g. a GPU build); read by the native loader when the addon loads.'),
  AI_CORE_GRPC_ENDPOINT: def(hostPortRule, ['service.grpc', 'client.grpc'], 'localhost:50051', 'The service listens for gRPC there; clients connect to it.'),
  AI_CORE_HTTP_ENDPOINT: def(httpUrlRule, ['service.http', 'client.http'], 'http://localhost:8000', "The service's HTTP API (health, configuration, metrics) listens on its host and port; clients call it there."),
  AI_CORE_CONNECTION_TIMEOUT_MS: def(timeoutRule, ['client.connectionTimeoutMs'], '5000', 'How long a client leaves an unreachable service alone (frames are coded locally meanwhile) before one call probes it again.'),
  AI_CORE_REQUEST_TIMEOUT_MS: def(timeoutRule, ['client.requestTimeoutMs'], '30', "The deadline of one frame's call from a client; past it the frame goes without AI."),
  AI_CORE_RETRY_ATTEMPTS: def(retryRule, ['client.retryAttempts'], '3', 'Failed calls in a row after which a client stops asking the service for AI_CORE_CONNECTION_TIMEOUT_MS. A frame whose call fails is coded locally at once, never retried: a live frame cannot wait.'),
  DATABASE_URL: def(postgresUrlRule, ['service.database.url'], 'none: the embedded database (PGlite)', 'The PostgreSQL database of user configs, sessions and metrics. Never shown in errors or logs with its password.'),
  AIC_DATA_DIR: def(nonEmptyTextRule, ['service.database.dataDir'], 'none: in memory', 'Without DATABASE_URL: the folder the embedded database (PGlite) keeps its files in, so settings and history survive a restart.'),
  PROMETHEUS_ENABLED: def(booleanRule, ['service.prometheus.enabled'], 'true', 'Serve Prometheus metrics at /metrics of the HTTP API.'),
  AIC_JWT_SECRET: def(jwtSecretRule, ['service.auth.jwtSecret'], 'none', 'Verify the bearer tokens of the HTTP API with this HS256 secret. One of AIC_JWT_SECRET and AIC_JWKS_URL.'),
  AIC_JWKS_URL: def(jwksUrlRule, ['service.auth.jwksUrl'], 'none', "Verify the bearer tokens of the HTTP API with the issuer's published keys. One of AIC_JWT_SECRET and AIC_JWKS_URL."),
  AIC_AUTH_DISABLED: def(booleanRule, ['service.auth.disabled'], 'false', 'Serve without verifying tokens (every caller is the user "anonymous"); for local experiments only, never with AIC_JWT_SECRET or AIC_JWKS_URL.'),
  AIC_JWT_ISSUER: def(nonEmptyTextRule, ['service.auth.issuer'], 'none: not checked', 'The iss a bearer token must carry.'),
  AIC_JWT_AUDIENCE: def(listRule, ['service.auth.audience'], 'none: not checked', 'The aud a bearer token must carry one of.'),
  AIC_TLS_CERT: def(fileRule, ['service.tls.cert', 'client.tls.cert'], 'none', "PEM certificate: the service's, or a client's for mutual TLS. Needs AIC_TLS_KEY."),
  AIC_TLS_KEY: def(fileRule, ['service.tls.key', 'client.tls.key'], 'none', 'PEM private key of AIC_TLS_CERT.'),
  AIC_TLS_CA: def(fileRule, ['service.tls.ca', 'client.tls.ca'], "none: the system's roots", 'PEM certificate authorities: those a client trusts for the service, and those the service trusts for client certificates.'),
  AIC_TLS_CLIENT_AUTH: def(booleanRule, ['service.tls.clientAuth', 'client.tls.clientAuth'], 'false', 'The service requires client certificates signed by AIC_TLS_CA (mutual TLS). Needs AIC_TLS_CA, AIC_TLS_CERT and AIC_TLS_KEY.'),
  AIC_PLAINTEXT: def(booleanRule, ['service.tls.plaintext', 'client.tls.plaintext'], 'false', 'gRPC without TLS, only when this is true; not with any AIC_TLS_* variable. Without it the service needs AIC_TLS_CERT and AIC_TLS_KEY.'),
  LOG_LEVEL: def(logLevelRule, ['logLevel'], 'info', 'The least severe log lines written.'),
} as const;

export type VariableName = keyof typeof DEFINITIONS;

/** The value type a variable's rule yields. */
export type VariableValue<K extends VariableName> = (typeof DEFINITIONS)[K] extends Definition<infer T> ? T : never;

/** Every environment variable loadConfig() reads, in the order the docs print them. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = Object.freeze(
  (Object.keys(DEFINITIONS) as VariableName[]).map((name) => {
    const d: Definition<unknown> = DEFINITIONS[name];
    return Object.freeze({ name, accepted: d.rule.accepted, default: d.default, meaning: d.meaning, fields: Object.freeze([...d.fields]) });
  }),
);

/**
 * Variables of the project that loadConfig() does not read (builds, tests, fuzzing): set, they
 * draw no warning.
 */
export const OTHER_PROJECT_VARIABLES: readonly string[] = Object.freeze(['AIC_FORCE_BUILD', 'AIC_OPUS_FROM_DEPS', 'AIC_FUZZ_ROOT', 'AIC_FUZZ_DATA', 'AIC_FUZZ_IMAGE_MAX_DIM']);

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/**
 * The variables as a Markdown table (docs/configuration.md holds this very text) or as plain
 * text for `--help`.
 */
export function formatConfigTable(format: 'markdown' | 'text' = 'markdown'): string {
  if (format === 'markdown') {
    const rows = CONFIG_VARIABLES.map((v) => `| \`${v.name}\` | ${cell(v.accepted)} | ${cell(v.default)} | ${cell(v.meaning)} | ${v.fields.map((f) => `\`${f}\``).join(', ')} |`);
    return ['| variable | accepted values | default | meaning | AicConfig field |', '|---|---|---|---|---|', ...rows].join('\n') + '\n';
  }
  return CONFIG_VARIABLES.map((v) => `${v.name}\n    accepts: ${v.accepted}\n    default: ${v.default}\n    ${v.meaning}`).join('\n\n') + '\n';
}
