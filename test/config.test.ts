// Configuration in one place (src/config/): every variable's default and parse, every refusal with
// INVALID_CONFIG naming the variable and what it accepts, warnings for unknown variables, and
// docs/configuration.md's table against CONFIG_VARIABLES.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AicError,
  CONFIG_VARIABLES,
  clientTransport,
  formatConfigTable,
  loadConfig,
  redactConfig,
  serviceTransport,
} from '../src/index.js';

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
    expect(c.service.auth).toEqual({ jwtSecret: null, jwksUrl: null, issuer: null, audience: null });
    expect(c.service.database).toEqual({ url: null, redactedUrl: null });
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
    expect(CONFIG_VARIABLES.map((v) => v.name).filter((n) => !(n in env))).toEqual(['AIC_JWT_SECRET', 'AIC_PLAINTEXT']);
    const c = loadConfig(env);
    expect(c.session).toEqual({ enabled: false, mode: 'conservative', targetCompressionRatio: 0.65, maxLatencyMs: 33.5, minQualityScore: 0.9, enableFallback: false, dataRetentionHours: 48 });
    expect(c.engine).toEqual({ executionProvider: 'cuda', onnxRuntimeDir: '/opt/onnxruntime-gpu' });
    expect(c.service.grpc).toEqual({ address: '0.0.0.0:6000', host: '0.0.0.0', port: 6000 });
    expect(c.service.http).toEqual({ url: 'https://ai-core.internal:8443/', protocol: 'https', host: 'ai-core.internal', port: 8443 });
    expect(c.client).toMatchObject({ connectionTimeoutMs: 2500, requestTimeoutMs: 45, retryAttempts: 0 });
    expect(c.service.database).toEqual({ url: 'postgresql://aic:hunter2@db:5432/auralink', redactedUrl: 'postgresql://aic:***@db:5432/auralink' });
    expect(c.service.prometheus.enabled).toBe(false);
    expect(c.service.auth).toEqual({ jwtSecret: null, jwksUrl: 'https://auth.example.com/.well-known/jwks.json', issuer: 'https://auth.example.com/', audience: ['aic-api', 'dashboard'] });
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
    expect(CONFIG_VARIABLES.map((v) => v.name).filter((n) => !refused.has(n))).toEqual(['AIC_ONNXRUNTIME_DIR', 'AIC_JWT_ISSUER']);
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

describe('transport and redaction', () => {
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

  it('redactConfig hides the secret and the database password', () => {
    const c = loadConfig({ AIC_JWT_SECRET: SECRET, DATABASE_URL: 'postgres://u:hunter2@db/x' });
    const text = JSON.stringify(redactConfig(c));
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('hunter2');
    expect(text).toContain('postgres://u:***@db/x');
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
