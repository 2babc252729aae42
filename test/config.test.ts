// Configuration in one place (src/config/): every variable's default and parse, every refusal with
// INVALID_CONFIG naming the variable and what it accepts, warnings for unknown variables, the
// precedence of session > user > environment with opt-out on top, the mapping to openSession()
// exercised on a real engine, and docs/configuration.md's table against CONFIG_VARIABLES.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AicError,
  CONFIG_VARIABLES,
  clientTransport,
  createEngine,
  executionProviderFor,
  formatConfigTable,
  loadConfig,
  MODE_DEFAULTS,
  redactConfig,
  resolveSessionSettings,
  serviceTransport,
  toEngineOptions,
  toSessionOptions,
  type Engine,
  type Frame,
} from '../src/index.js';
import { syntheticFrame } from './media.js';

let dir: string;
let cert: string;
let key: string;
let ca: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'aic-config-'));
  cert = path.join(dir, 'cert.pem');
  key = path.join(dir, 'key.pem');
  ca = path.join(dir, 'ca.pem');
  for (const f of [cert, key, ca]) writeFileSync(f, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'a-shared-secret-of-32-characters!';

/** The AicError a call throws. */
function thrown(fn: () => unknown): AicError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AicError);
    return e as AicError;
  }
  throw new Error('expected an AicError');
}

const accepted = (name: string): string => CONFIG_VARIABLES.find((v) => v.name === name)!.accepted;

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment', () => {
    const c = loadConfig({});
    expect(c.session).toEqual({ enabled: true, mode: 'adaptive', targetCompressionRatio: null, maxLatencyMs: 20, minQualityScore: null, enableFallback: true, dataRetentionHours: 720 });
    expect(c.engine).toEqual({ executionProvider: 'auto', onnxRuntimeDir: null });
    expect(c.service.grpc).toEqual({ address: 'localhost:50051', host: 'localhost', port: 50051 });
    expect(c.service.http).toEqual({ url: 'http://localhost:8000/', protocol: 'http', host: 'localhost', port: 8000 });
    expect(c.service.tls).toEqual({ plaintext: false, cert: null, key: null, ca: null, clientAuth: false });
    expect(c.service.auth).toEqual({ jwtSecret: null, jwksUrl: null, issuer: null, audience: null, disabled: false });
    expect(c.service.database).toEqual({ url: null, redactedUrl: null, dataDir: null });
    expect(c.service.prometheus).toEqual({ enabled: true });
    expect(c.client).toEqual({ grpc: c.service.grpc, http: c.service.http, connectionTimeoutMs: 5000, requestTimeoutMs: 30, retryAttempts: 3, tls: c.service.tls });
    expect(c.logLevel).toBe('info');
    expect(c.warnings).toEqual([]);
    expect(Object.isFrozen(c) && Object.isFrozen(c.session) && Object.isFrozen(c.service.tls)).toBe(true);
  });

  it('reads process.env by default', () => {
    const before = process.env.AIC_MODE;
    process.env.AIC_MODE = 'aggressive';
    try {
      expect(loadConfig().session.mode).toBe('aggressive');
    } finally {
      if (before === undefined) delete process.env.AIC_MODE;
      else process.env.AIC_MODE = before;
    }
  });

  it('parses every variable', () => {
    const env = {
      AIC_ENABLED: 'no',
      AIC_MODE: 'Conservative',
      AIC_TARGET_COMPRESSION_RATIO: '0.65',
      AIC_MAX_LATENCY_MS: '33.5',
      AIC_MIN_QUALITY_SCORE: '0.9',
      AIC_ENABLE_FALLBACK: 'FALSE',
      AIC_DATA_RETENTION_HOURS: '48',
      AIC_EXECUTION_PROVIDER: 'cuda',
      AIC_ONNXRUNTIME_DIR: '/opt/onnxruntime-gpu',
      AI_CORE_GRPC_ENDPOINT: '0.0.0.0:6000',
      AI_CORE_HTTP_ENDPOINT: 'https://ai-core.internal:8443',
      AI_CORE_CONNECTION_TIMEOUT_MS: '2500',
      AI_CORE_REQUEST_TIMEOUT_MS: '45',
      AI_CORE_RETRY_ATTEMPTS: '0',
      DATABASE_URL: 'postgresql://aic:hunter2@db:5432/auralink',
      AIC_DATA_DIR: '/var/lib/aic',
      PROMETHEUS_ENABLED: '0',
      AIC_JWKS_URL: 'https://auth.example.com/.well-known/jwks.json',
      AIC_JWT_ISSUER: 'https://auth.example.com/',
      AIC_JWT_AUDIENCE: 'aic-api, dashboard',
      AIC_TLS_CERT: cert,
      AIC_TLS_KEY: key,
      AIC_TLS_CA: ca,
      AIC_TLS_CLIENT_AUTH: 'yes',
      LOG_LEVEL: 'DEBUG',
    };
    // Every variable of the table is in this environment.
    expect(CONFIG_VARIABLES.map((v) => v.name).filter((n) => !(n in env))).toEqual(['AIC_JWT_SECRET', 'AIC_AUTH_DISABLED', 'AIC_PLAINTEXT']);
    const c = loadConfig(env);
    expect(c.session).toEqual({ enabled: false, mode: 'conservative', targetCompressionRatio: 0.65, maxLatencyMs: 33.5, minQualityScore: 0.9, enableFallback: false, dataRetentionHours: 48 });
    expect(c.engine).toEqual({ executionProvider: 'cuda', onnxRuntimeDir: '/opt/onnxruntime-gpu' });
    expect(c.service.grpc).toEqual({ address: '0.0.0.0:6000', host: '0.0.0.0', port: 6000 });
    expect(c.service.http).toEqual({ url: 'https://ai-core.internal:8443/', protocol: 'https', host: 'ai-core.internal', port: 8443 });
    expect(c.client).toMatchObject({ connectionTimeoutMs: 2500, requestTimeoutMs: 45, retryAttempts: 0 });
    expect(c.service.database).toEqual({ url: 'postgresql://aic:hunter2@db:5432/auralink', redactedUrl: 'postgresql://aic:***@db:5432/auralink', dataDir: '/var/lib/aic' });
    expect(c.service.prometheus.enabled).toBe(false);
    expect(c.service.auth).toEqual({ jwtSecret: null, jwksUrl: 'https://auth.example.com/.well-known/jwks.json', issuer: 'https://auth.example.com/', audience: ['aic-api', 'dashboard'], disabled: false });
    expect(c.service.tls).toEqual({ plaintext: false, cert, key, ca, clientAuth: true });
    expect(c.logLevel).toBe('debug');
    expect(c.warnings).toEqual([]);

    // The two left out above, which the ones above exclude.
    const other = loadConfig({ AIC_JWT_SECRET: SECRET, AIC_PLAINTEXT: 'true' });
    expect(other.service.auth.jwtSecret).toBe(SECRET);
    expect(other.client.tls.plaintext).toBe(true);
  });

  it('reads every spelling of booleans, IPv6 endpoints, Infinity and blanks as unset', () => {
    for (const [text, value] of [['true', true], ['1', true], ['YES', true], ['false', false], ['0', false], ['No', false]] as const) {
      expect(loadConfig({ PROMETHEUS_ENABLED: text }).service.prometheus.enabled).toBe(value);
    }
    expect(loadConfig({ AI_CORE_GRPC_ENDPOINT: '[::1]:50051' }).client.grpc).toEqual({ address: '[::1]:50051', host: '::1', port: 50051 });
    expect(loadConfig({ AI_CORE_HTTP_ENDPOINT: 'http://[::1]:8000' }).client.http).toMatchObject({ host: '::1', port: 8000 });
    expect(loadConfig({ AI_CORE_HTTP_ENDPOINT: 'https://ai-core' }).client.http.port).toBe(443);
    expect(loadConfig({ AIC_MAX_LATENCY_MS: 'Infinity' }).session.maxLatencyMs).toBe(Infinity);
    expect(loadConfig({ AIC_TARGET_COMPRESSION_RATIO: '0' }).session.targetCompressionRatio).toBe(0);
    expect(loadConfig({ AIC_MODE: '', AIC_MAX_LATENCY_MS: '   ', LOG_LEVEL: ' warn ' })).toMatchObject({ session: { mode: 'adaptive', maxLatencyMs: 20 }, logLevel: 'warn' });
    expect(loadConfig({ AIC_JWT_SECRET: SECRET, AIC_JWKS_URL: '' }).service.auth.jwtSecret).toBe(SECRET);
    expect(loadConfig({ AIC_JWKS_URL: 'http://localhost:9000/jwks' }).service.auth.jwksUrl).toBe('http://localhost:9000/jwks');
    expect(loadConfig({ DATABASE_URL: 'postgres:///auralink?host=/var/run/postgresql' }).service.database.url).toBe('postgres:///auralink?host=/var/run/postgresql');
    // Relative paths are kept absolute.
    const rel = path.relative(process.cwd(), cert);
    expect(loadConfig({ AIC_TLS_CERT: rel, AIC_TLS_KEY: key }).service.tls.cert).toBe(cert);
  });

  // [variable, a value it refuses, what the message says of the value given]
  const BAD: [string, string, string][] = [
    ['AIC_ENABLED', 'maybe', '"maybe"'],
    ['AIC_ENABLED', 'on', '"on"'],
    ['AIC_MODE', 'fast', '"fast"'],
    ['AIC_MODE', 'adaptive,aggressive', '"adaptive,aggressive"'],
    ['AIC_TARGET_COMPRESSION_RATIO', '1', '"1" (out of range)'],
    ['AIC_TARGET_COMPRESSION_RATIO', '-0.1', '"-0.1" (out of range)'],
    ['AIC_TARGET_COMPRESSION_RATIO', '80%', '"80%" (not a number)'],
    ['AIC_TARGET_COMPRESSION_RATIO', '0x1', '"0x1" (not a number)'],
    ['AIC_MAX_LATENCY_MS', '0', '"0" (out of range)'],
    ['AIC_MAX_LATENCY_MS', '-5', '"-5" (out of range)'],
    ['AIC_MAX_LATENCY_MS', '20ms', '"20ms" (not a number)'],
    ['AIC_MIN_QUALITY_SCORE', '1.5', '"1.5" (out of range)'],
    ['AIC_MIN_QUALITY_SCORE', 'NaN', '"NaN" (not a number)'],
    ['AIC_ENABLE_FALLBACK', 'sometimes', '"sometimes"'],
    ['AIC_DATA_RETENTION_HOURS', '0', '"0" (out of range)'],
    ['AIC_DATA_RETENTION_HOURS', '1.5', '"1.5" (not a whole number)'],
    ['AIC_EXECUTION_PROVIDER', 'tensorrt', '"tensorrt"'],
    ['AI_CORE_GRPC_ENDPOINT', 'localhost', '"localhost" (no port)'],
    ['AI_CORE_GRPC_ENDPOINT', 'localhost:70000', '"localhost:70000" (the port is out of range)'],
    ['AI_CORE_GRPC_ENDPOINT', 'http://localhost:50051', '"http://localhost:50051" (a URL: give host:port)'],
    ['AI_CORE_GRPC_ENDPOINT', 'my_host:50051', '"my_host:50051" (not a host name or address)'],
    ['AI_CORE_GRPC_ENDPOINT', '::1:50051', '"::1:50051" (an IPv6 address goes in brackets)'],
    ['AI_CORE_HTTP_ENDPOINT', 'localhost:8000', '"localhost:8000" (a localhost: URL)'],
    ['AI_CORE_HTTP_ENDPOINT', 'ftp://host/', '"ftp://host/" (a ftp: URL)'],
    ['AI_CORE_HTTP_ENDPOINT', 'not a url', '"not a url" (not a URL)'],
    ['AI_CORE_CONNECTION_TIMEOUT_MS', '5s', '"5s" (not a whole number)'],
    ['AI_CORE_CONNECTION_TIMEOUT_MS', '0', '"0" (out of range)'],
    ['AI_CORE_REQUEST_TIMEOUT_MS', '30ms', '"30ms" (not a whole number)'],
    ['AI_CORE_RETRY_ATTEMPTS', '-1', '"-1" (out of range)'],
    ['AI_CORE_RETRY_ATTEMPTS', '11', '"11" (out of range)'],
    ['DATABASE_URL', 'mysql://root:pw@db/auralink', 'a value of 27 characters (not shown) (a mysql: URL)'],
    ['PROMETHEUS_ENABLED', 'enabled', '"enabled"'],
    ['AIC_JWT_SECRET', 'short-secret', 'a value of 12 characters (not shown) (too short)'],
    ['AIC_JWKS_URL', 'http://auth.example.com/jwks', '"http://auth.example.com/jwks" (http:// to a host other than this one)'],
    ['AIC_JWT_ISSUER', '   ', ''], // blank is unset: no error (checked below)
    ['AIC_JWT_AUDIENCE', 'aic-api,,dashboard', '"aic-api,,dashboard" (an empty name)'],
    ['AIC_TLS_CERT', '/nonexistent/cert.pem', '"/nonexistent/cert.pem" (no such file)'],
    ['AIC_TLS_KEY', '/', '"/" (not a file)'],
    ['AIC_TLS_CA', '/nonexistent/ca.pem', '"/nonexistent/ca.pem" (no such file)'],
    ['AIC_TLS_CLIENT_AUTH', 'required', '"required"'],
    ['AIC_PLAINTEXT', 'please', '"please"'],
    ['AIC_AUTH_DISABLED', 'maybe', '"maybe"'],
    ['LOG_LEVEL', 'verbose', '"verbose"'],
  ];

  it.each(BAD.filter(([, , given]) => given !== ''))('refuses %s=%j with INVALID_CONFIG naming it, the value and what it accepts', (name, value, given) => {
    const e = thrown(() => loadConfig({ [name]: value }));
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toBe(`${name} (environment): got ${given}; accepted: ${accepted(name)}`);
  });

  it('refuses a bad value of every variable that can have one, and never shows a secret', () => {
    const refused = new Set(BAD.filter(([, , given]) => given !== '').map(([name]) => name));
    // AIC_ONNXRUNTIME_DIR takes any text (the native loader checks the folder); AIC_JWT_ISSUER any text that is not blank.
    expect(CONFIG_VARIABLES.map((v) => v.name).filter((n) => !refused.has(n))).toEqual(['AIC_ONNXRUNTIME_DIR', 'AIC_DATA_DIR', 'AIC_JWT_ISSUER']);
    expect(loadConfig({ AIC_JWT_ISSUER: '   ' }).service.auth.issuer).toBeNull();
    const e = thrown(() => loadConfig({ DATABASE_URL: 'mysql://root:pw@db/auralink' }));
    expect(e.message).not.toContain('pw');
    expect(thrown(() => loadConfig({ AIC_JWT_SECRET: 'short-secret' })).message).not.toContain('short-secret');
    expect(thrown(() => loadConfig({ DATABASE_URL: 'postgres//user:hunter2@db' })).message).not.toContain('hunter2');
  });

  it('refuses an unreadable TLS file', () => {
    if (process.getuid?.() === 0) return; // root reads any file
    const locked = path.join(dir, 'locked.pem');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0o000);
    const e = thrown(() => loadConfig({ AIC_TLS_CA: locked }));
    expect(e.message).toBe(`AIC_TLS_CA (environment): got ${JSON.stringify(locked)} (not readable); accepted: a path to a readable file`);
  });

  it('refuses values that do not go together', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ AIC_TLS_CERT: cert }, /^AIC_TLS_KEY \(environment\) is not set while AIC_TLS_CERT is/],
      [{ AIC_TLS_KEY: key }, /^AIC_TLS_CERT \(environment\) is not set while AIC_TLS_KEY is/],
      [{ AIC_TLS_CERT: cert, AIC_TLS_KEY: key, AIC_TLS_CLIENT_AUTH: 'true' }, /^AIC_TLS_CLIENT_AUTH \(environment\) is true but AIC_TLS_CA is not set/],
      [{ AIC_TLS_CA: ca, AIC_TLS_CLIENT_AUTH: 'true' }, /AIC_TLS_CERT, AIC_TLS_KEY are not set/],
      [{ AIC_PLAINTEXT: 'true', AIC_TLS_CA: ca }, /^AIC_PLAINTEXT \(environment\) is true and AIC_TLS_CA is set/],
      [{ AIC_PLAINTEXT: 'true', AIC_TLS_CERT: cert, AIC_TLS_KEY: key }, /AIC_TLS_CERT, AIC_TLS_KEY are set/],
      [{ AIC_JWT_SECRET: SECRET, AIC_JWKS_URL: 'https://auth.example.com/jwks' }, /^AIC_JWT_SECRET and AIC_JWKS_URL \(environment\) are both set/],
      [{ AIC_JWT_ISSUER: 'me' }, /^AIC_JWT_ISSUER \(environment\) is set but no key to verify tokens with: set AIC_JWT_SECRET or AIC_JWKS_URL/],
      [{ AIC_JWT_AUDIENCE: 'aic' }, /^AIC_JWT_AUDIENCE \(environment\) is set but no key/],
    ];
    for (const [env, message] of cases) {
      const e = thrown(() => loadConfig(env));
      expect(e.code).toBe('INVALID_CONFIG');
      expect(e.message).toMatch(message);
    }
    expect(thrown(() => loadConfig(null as never)).code).toBe('INVALID_CONFIG');
  });

  it('warns of unknown AIC_* and AI_CORE_* variables, naming the one meant, and of nothing else', () => {
    const c = loadConfig({ AIC_MOED: 'adaptive', AI_CORE_GRPC_ENDPIONT: 'x', AIC_SOMETHING_NEW: '1', aic_mode: 'off', PATH: '/usr/bin', AIC_FORCE_BUILD: '1', AIC_FUZZ_ROOT: '.', REDIS_URL: 'redis://x' });
    expect(c.warnings).toEqual([
      'AIC_MOED is set but is not a variable of @auralink/aic (did you mean AIC_MODE?); it is ignored',
      'AIC_SOMETHING_NEW is set but is not a variable of @auralink/aic; it is ignored',
      'AI_CORE_GRPC_ENDPIONT is set but is not a variable of @auralink/aic (did you mean AI_CORE_GRPC_ENDPOINT?); it is ignored',
      'aic_mode is set but is not a variable of @auralink/aic (did you mean AIC_MODE?); it is ignored',
    ]);
    expect(c.session.mode).toBe('adaptive');
  });
});

describe('transport, engine options and redaction', () => {
  it('the service listens with TLS, or plaintext only when asked, and refuses neither', () => {
    const e = thrown(() => serviceTransport(loadConfig({}).service.tls));
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toMatch(/AIC_TLS_CERT and AIC_TLS_KEY .* AIC_PLAINTEXT=true/);
    expect(serviceTransport(loadConfig({ AIC_PLAINTEXT: '1' }).service.tls)).toEqual({ kind: 'plaintext' });
    expect(serviceTransport(loadConfig({ AIC_TLS_CERT: cert, AIC_TLS_KEY: key, AIC_TLS_CA: ca, AIC_TLS_CLIENT_AUTH: 'true' }).service.tls)).toEqual({ kind: 'tls', cert, key, ca, clientAuth: true });
  });

  it('a client uses TLS (system roots by default), mutual TLS with a certificate, plaintext only when asked', () => {
    expect(clientTransport(loadConfig({}).client.tls)).toEqual({ kind: 'tls', ca: null, cert: null, key: null });
    expect(clientTransport(loadConfig({ AIC_TLS_CA: ca, AIC_TLS_CERT: cert, AIC_TLS_KEY: key }).client.tls)).toEqual({ kind: 'tls', ca, cert, key });
    expect(clientTransport(loadConfig({ AIC_PLAINTEXT: 'yes' }).client.tls)).toEqual({ kind: 'plaintext' });
  });

  it('maps the provider, and a GPU preference within what the operator allows', () => {
    expect(toEngineOptions(loadConfig({ AIC_EXECUTION_PROVIDER: 'cpu' }))).toEqual({ executionProvider: 'cpu' });
    const auto = loadConfig({}).engine;
    const cpu = loadConfig({ AIC_EXECUTION_PROVIDER: 'cpu' }).engine;
    expect(executionProviderFor({ useGpu: null }, auto)).toBe('auto');
    expect(executionProviderFor({ useGpu: false }, auto)).toBe('cpu');
    expect(executionProviderFor({ useGpu: true }, auto)).toBe('cuda');
    expect(executionProviderFor({ useGpu: true }, cpu)).toBe('cpu');
  });

  it('redactConfig hides the secret and the database password', () => {
    const c = loadConfig({ AIC_JWT_SECRET: SECRET, DATABASE_URL: 'postgres://u:hunter2@db/x' });
    const text = JSON.stringify(redactConfig(c));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('hunter2');
    expect(text).toContain('postgres://u:***@db/x');
  });
});

describe('resolveSessionSettings', () => {
  const base = loadConfig({}).session;

  it('takes the environment and the mode defaults when nothing overrides', () => {
    const s = resolveSessionSettings(base);
    expect(s).toMatchObject({ enabled: true, mode: 'adaptive', targetCompressionRatio: 0.8, minQualityScore: 0.85, maxLatencyMs: 20, enableFallback: true, useGpu: null, modelType: null, modelVersion: null, optOut: false, dataRetentionHours: 720, offReason: null });
    expect(s.sources).toMatchObject({ mode: 'environment', targetCompressionRatio: 'mode', minQualityScore: 'mode', maxLatencyMs: 'environment' });
    const env = loadConfig({ AIC_MODE: 'aggressive', AIC_TARGET_COMPRESSION_RATIO: '0.95', AIC_MAX_LATENCY_MS: '15' }).session;
    expect(resolveSessionSettings(env)).toMatchObject({ mode: 'aggressive', targetCompressionRatio: 0.95, minQualityScore: MODE_DEFAULTS.aggressive.minQualityScore, maxLatencyMs: 15 });
  });

  it('session options win over the user config, which wins over the environment', () => {
    const env = loadConfig({ AIC_MAX_LATENCY_MS: '20', AIC_ENABLE_FALLBACK: 'true', AIC_DATA_RETENTION_HOURS: '24' }).session;
    const user = { maxLatencyMs: 30, enableFallback: false, useGpu: true, modelType: 'aic-image', modelVersion: '1', dataRetentionHours: 48 };
    expect(resolveSessionSettings(env, user)).toMatchObject({ maxLatencyMs: 30, enableFallback: false, useGpu: true, modelType: 'aic-image', modelVersion: '1', dataRetentionHours: 48 });
    const s = resolveSessionSettings(env, user, { maxLatencyMs: 50, useGpu: false });
    expect(s).toMatchObject({ maxLatencyMs: 50, enableFallback: false, useGpu: false, dataRetentionHours: 48 });
    expect(s.sources).toMatchObject({ maxLatencyMs: 'session options', enableFallback: 'user config', useGpu: 'session options', dataRetentionHours: 'user config' });
    // null (a database NULL) and undefined are not set.
    expect(resolveSessionSettings(env, { maxLatencyMs: null, mode: undefined }, { maxLatencyMs: null })).toMatchObject({ maxLatencyMs: 20, mode: 'adaptive' });
  });

  it('a mode brings its own target and floor; a target set at or above it stays', () => {
    const env = loadConfig({ AIC_MODE: 'adaptive', AIC_TARGET_COMPRESSION_RATIO: '0.80', AIC_MIN_QUALITY_SCORE: '0.8' }).session;
    expect(resolveSessionSettings(env, { mode: 'conservative' })).toMatchObject({ mode: 'conservative', targetCompressionRatio: 0.5, minQualityScore: 0.95 });
    expect(resolveSessionSettings(env, { mode: 'conservative' }, { targetCompressionRatio: 0.6 })).toMatchObject({ mode: 'conservative', targetCompressionRatio: 0.6, minQualityScore: 0.95 });
    expect(resolveSessionSettings(env, { targetCompressionRatio: 0.7 }, { mode: 'aggressive' })).toMatchObject({ mode: 'aggressive', targetCompressionRatio: 0.9, minQualityScore: 0.7 });
    expect(resolveSessionSettings(env, { mode: 'aggressive', minQualityScore: 0.75 })).toMatchObject({ targetCompressionRatio: 0.9, minQualityScore: 0.75 });
    // The model version follows its type the same way.
    expect(resolveSessionSettings(base, { modelType: 'a', modelVersion: '2' }, { modelType: 'b' })).toMatchObject({ modelType: 'b', modelVersion: null });
    expect(resolveSessionSettings(base, { modelType: 'a', modelVersion: '2' }, { modelVersion: '3' })).toMatchObject({ modelType: 'a', modelVersion: '3' });
  });

  it('an opted-out user is off whatever the session asks', () => {
    const s = resolveSessionSettings(base, { optOut: true, mode: 'aggressive' }, { enabled: true, mode: 'aggressive', targetCompressionRatio: 0.9 });
    expect(s).toMatchObject({ enabled: false, mode: 'off', optOut: true, offReason: 'opt_out', targetCompressionRatio: 0, minQualityScore: 0 });
    expect(s.sources).toMatchObject({ enabled: 'user config', mode: 'user config', optOut: 'user config' });
    // A session cannot opt itself in or out, nor set the user's retention.
    expect(thrown(() => resolveSessionSettings(base, {}, { optOut: false } as never)).message).toBe("optOut (session options): got a value (a user's setting, not a session's); accepted: the fields enabled, mode, targetCompressionRatio, maxLatencyMs, minQualityScore, enableFallback, useGpu, modelType, modelVersion");
  });

  it('a disabled layer turns the session off unless a layer above enables it; mode off is off', () => {
    const off = loadConfig({ AIC_ENABLED: 'false' }).session;
    expect(resolveSessionSettings(off)).toMatchObject({ enabled: false, mode: 'off', offReason: 'disabled' });
    expect(resolveSessionSettings(off, { enabled: true })).toMatchObject({ enabled: true, mode: 'adaptive', offReason: null });
    expect(resolveSessionSettings(base, { enabled: false }, { enabled: true })).toMatchObject({ enabled: true, offReason: null });
    expect(resolveSessionSettings(base, {}, { enabled: false })).toMatchObject({ enabled: false, mode: 'off', offReason: 'disabled' });
    const s = resolveSessionSettings(base, { mode: 'off' });
    expect(s).toMatchObject({ enabled: false, mode: 'off', offReason: 'mode', targetCompressionRatio: 0, minQualityScore: 0 });
    expect(s.sources.enabled).toBe('user config');
  });

  const BAD_OVERRIDES: [string, unknown, string, string][] = [
    ['mode', 'fast', '"fast"', 'off, conservative, adaptive or aggressive'],
    ['enabled', 'yes', '"yes" (not a boolean)', 'true, false, 1, 0, yes or no'],
    ['targetCompressionRatio', 1, '1 (number) (out of range)', accepted('AIC_TARGET_COMPRESSION_RATIO')],
    ['targetCompressionRatio', '0.8', '"0.8" (not a number)', accepted('AIC_TARGET_COMPRESSION_RATIO')],
    ['maxLatencyMs', 0, '0 (number) (out of range)', accepted('AIC_MAX_LATENCY_MS')],
    ['maxLatencyMs', Number.NaN, 'NaN (number) (not a number)', accepted('AIC_MAX_LATENCY_MS')],
    ['minQualityScore', -0.5, '-0.5 (number) (out of range)', accepted('AIC_MIN_QUALITY_SCORE')],
    ['enableFallback', 1, '1 (number) (not a boolean)', 'true, false, 1, 0, yes or no'],
    ['useGpu', 'true', '"true" (not a boolean)', 'true, false, 1, 0, yes or no'],
    ['modelType', 'a b', '"a b"', "1 to 64 letters, digits, '.', '_' or '-'"],
    ['modelVersion', 2, '2 (number) (not a string)', "1 to 64 letters, digits, '.', '_' or '-'"],
  ];

  it.each(BAD_OVERRIDES)('refuses %s=%j from the user config and from the session options, naming the field and its source', (field, value, given, acc) => {
    for (const source of ['user config', 'session options'] as const) {
      const over = { [field]: value };
      const e = thrown(() => (source === 'user config' ? resolveSessionSettings(base, over) : resolveSessionSettings(base, {}, over)));
      expect(e.code).toBe('INVALID_CONFIG');
      expect(e.message).toBe(`${field} (${source}): got ${given}; accepted: ${acc}`);
    }
  });

  it('refuses user-only fields with bad values, unknown fields and non-objects', () => {
    expect(thrown(() => resolveSessionSettings(base, { optOut: 'yes' as never })).message).toBe('optOut (user config): got "yes" (not a boolean); accepted: true, false, 1, 0, yes or no');
    expect(thrown(() => resolveSessionSettings(base, { dataRetentionHours: 0 })).message).toBe(`dataRetentionHours (user config): got 0 (number) (out of range); accepted: ${accepted('AIC_DATA_RETENTION_HOURS')}`);
    expect(thrown(() => resolveSessionSettings(base, { moed: 'off' } as never)).message).toMatch(/^moed \(user config\): got a value \(not a setting\); accepted: the fields enabled, mode, /);
    expect(thrown(() => resolveSessionSettings(base, 'off' as never)).message).toBe('user config must be an object of settings, got "off"');
    expect(thrown(() => resolveSessionSettings({ ...base, mode: 'fast' as never })).message).toBe('mode (environment): got "fast"; accepted: off, conservative, adaptive or aggressive');
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(thrown(() => resolveSessionSettings(base, revoked.proxy)).code).toBe('INVALID_CONFIG');
  });
});

describe('toSessionOptions on a real engine', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await createEngine({ ...toEngineOptions(loadConfig({ AIC_EXECUTION_PROVIDER: 'cpu' })), intraOpThreads: 2, models: { audio: false } });
  });
  afterAll(() => engine?.close());

  const W = 96;
  const H = 64;
  const frame = (): Frame => ({ type: 'video', format: 'rgb24', width: W, height: H, data: syntheticFrame(W, H) }) as Frame;

  it('an opted-out user gets a lossless pass-through in mode off', async () => {
    const config = loadConfig({ AIC_MODE: 'aggressive' });
    const settings = resolveSessionSettings(config.session, { optOut: true }, { mode: 'aggressive' });
    const options = toSessionOptions(settings, { sessionId: 'opted-out', mode: 'aggressive' } as never);
    expect(options).toEqual({ sessionId: 'opted-out', mode: 'off', targetCompressionRatio: 0, minQualityScore: 0, maxLatencyMs: 20, enableFallback: true });
    const session = engine.openSession(options);
    try {
      const f = frame();
      const r = await session.compressFrame(f);
      expect(r.mode).toBe('off');
      expect(r.codec === 'stored' || r.codec === 'deflate').toBe(true);
      expect(r.quality.score).toBe(1);
      const back = await session.decompressFrame(r.payload);
      expect(back.data.equals(f.data as Buffer)).toBe(true);
    } finally {
      session.close();
    }
  });

  it('the effective mode, target, floor and budget are what the session codes under', async () => {
    const config = loadConfig({ AIC_MODE: 'adaptive', AIC_TARGET_COMPRESSION_RATIO: '0.8', AIC_MAX_LATENCY_MS: 'Infinity' });
    const settings = resolveSessionSettings(config.session, { mode: 'conservative', enableFallback: true }, { targetCompressionRatio: 0.6 });
    const session = engine.openSession(toSessionOptions(settings, { sessionId: 'conservative' }));
    try {
      expect(session.options).toMatchObject({ mode: 'conservative', targetCompressionRatio: 0.6, minQualityScore: 0.95, maxLatencyMs: Infinity, enableFallback: true });
      const r = await session.compressFrame(frame());
      expect(r).toMatchObject({ mode: 'conservative', targetCompressionRatio: 0.6, minQualityScore: 0.95 });
      // The session's floor is the one the frame was held to: neural or down the ladder, a frame
      // not reported quality_threshold_not_met reached 0.95.
      if (r.status !== 'quality_threshold_not_met') expect(r.quality.score).toBeGreaterThanOrEqual(0.95);
      if (r.status === 'fallback') expect(r.fallbackReason).toBeDefined();
    } finally {
      session.close();
    }
  });
});

describe('docs', () => {
  const doc = path.join(__dirname, '..', 'docs', 'configuration.md');
  const START = /<!-- config-table:start[^>]*-->\n/;
  const END = '<!-- config-table:end -->';

  it('docs/configuration.md holds the table of CONFIG_VARIABLES', () => {
    const table = formatConfigTable('markdown');
    const section = (text: string): [number, number] => {
      const start = START.exec(text);
      expect(start, 'docs/configuration.md has lost its config-table:start marker').not.toBeNull();
      const from = start!.index + start![0].length;
      const to = text.indexOf(END, from);
      expect(to, 'docs/configuration.md has lost its config-table:end marker').toBeGreaterThan(0);
      return [from, to];
    };
    let text = readFileSync(doc, 'utf8');
    if (process.env.UPDATE_DOCS === '1') {
      const [from, to] = section(text);
      text = text.slice(0, from) + table + text.slice(to);
      writeFileSync(doc, text);
    }
    const [from, to] = section(text);
    expect(text.slice(from, to), 'the table differs from CONFIG_VARIABLES: UPDATE_DOCS=1 npx vitest run test/config.test.ts rewrites it').toBe(table);
  });

  it('the text table names every variable with its accepted values and default', () => {
    const text = formatConfigTable('text');
    for (const v of CONFIG_VARIABLES) expect(text).toContain(`${v.name}\n    accepts: ${v.accepted}\n    default: ${v.default}\n`);
  });

  it('docs/api.md lists INVALID_CONFIG among the errors', () => {
    expect(readFileSync(path.join(__dirname, '..', 'docs', 'api.md'), 'utf8')).toMatch(/\| `INVALID_CONFIG` \|/);
  });
});
