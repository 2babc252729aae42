// The HTTP side: health for load balancers and Kubernetes (liveness and readiness apart),
// Prometheus's /metrics, and each user's configuration and history behind a Bearer token.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Registry } from 'prom-client';
import { AuthError, type Authenticator } from '../auth.js';
import type { AiCore } from '../core.js';
import type { TlsFiles } from '../grpc/server.js';

/** What the HTTP API needs of the database layer. */
export interface HttpStore {
  /** The user's aic_configs row as the API shows it, or null. */
  getConfigRow(userId: string): Promise<Record<string, unknown> | null>;
  setUserConfig(userId: string, patch: Record<string, unknown>): Promise<Record<string, unknown>>;
  userMetrics(userId: string, range: { from: Date; to: Date; bucketSeconds?: number }): Promise<unknown>;
}

export interface HttpOptions {
  host: string;
  port: number;
  tls?: TlsFiles | undefined;
  plaintext?: boolean | undefined;
  prometheus: boolean;
  /** Largest request body accepted (POST /api/v1/aic/config), default 64 KiB. */
  maxBodyBytes?: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'the request body is not JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}

export class HttpServer {
  readonly server: Server;
  #ready = false;
  port = 0;

  constructor(
    readonly core: AiCore,
    readonly auth: Authenticator,
    readonly registry: Registry,
    readonly store: HttpStore | undefined,
    readonly options: HttpOptions,
    /** Extra routes (the dashboard) tried before the API's 404. */
    readonly extra: ((req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>) | undefined = undefined,
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (error instanceof HttpError) send(res, error.status, { error: error.message });
        else if (error instanceof AuthError) send(res, error.kind === 'unauthenticated' ? 401 : 403, { error: error.message }, error.kind === 'unauthenticated' ? { 'www-authenticate': 'Bearer' } : {});
        else {
          const e = error as { code?: string; message?: string };
          if (e.code === 'INVALID_CONFIG' || e.code === 'INVALID_ARGUMENT') send(res, 400, { error: e.message, code: e.code });
          else send(res, 500, { error: 'internal error' });
        }
      });
    };
    if (options.tls) {
      this.server = createHttpsServer({ cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key), ...(options.tls.ca ? { ca: readFileSync(options.tls.ca) } : {}), requestCert: options.tls.requireClientCert ?? false, rejectUnauthorized: options.tls.requireClientCert ?? false }, handler);
    } else if (options.plaintext) {
      this.server = createHttpServer(handler);
    } else {
      throw new Error('HTTP needs TLS (AIC_TLS_CERT and AIC_TLS_KEY) or plaintext asked for explicitly (AIC_PLAINTEXT=true)');
    }
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => resolve());
    });
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : this.options.port;
    return this.port;
  }

  /** Readiness: true once everything started, false from the first moment of shutdown. */
  setReady(ready: boolean): void {
    this.#ready = ready;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async #user(req: IncomingMessage): Promise<string> {
    const caller = await this.auth.verify(req.headers.authorization);
    return caller.userId;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /health': {
        const h = await this.core.health();
        send(res, h.status === 'unhealthy' ? 503 : 200, { status: h.status, version: this.core.version, ...(h.reasons.length ? { reasons: h.reasons } : {}), models: h.models, executionProvider: h.provider, activeSessions: this.core.activeSessions, databaseConnected: h.databaseConnected });
        return;
      }
      case 'GET /health/live':
        send(res, 200, { status: 'alive' });
        return;
      case 'GET /health/ready':
        send(res, this.#ready && !this.core.closing ? 200 : 503, { ready: this.#ready && !this.core.closing });
        return;
      case 'GET /metrics':
        if (!this.options.prometheus) throw new HttpError(404, 'Prometheus metrics are off (PROMETHEUS_ENABLED=false)');
        send(res, 200, await this.registry.metrics(), { 'content-type': this.registry.contentType });
        return;
      case 'GET /api/v1/aic/config': {
        const userId = await this.#user(req);
        const store = this.#store();
        send(res, 200, { userId, config: (await store.getConfigRow(userId)) ?? null });
        return;
      }
      case 'POST /api/v1/aic/config': {
        const userId = await this.#user(req);
        const patch = await readJson(req, this.options.maxBodyBytes ?? 64 * 1024);
        send(res, 200, { userId, config: await this.#store().setUserConfig(userId, patch) });
        return;
      }
      case 'GET /api/v1/aic/live':
        send(res, 200, this.core.userLive(await this.#user(req)));
        return;
      case 'GET /api/v1/aic/metrics': {
        const userId = await this.#user(req);
        const to = url.searchParams.get('to') ? new Date(url.searchParams.get('to')!) : new Date();
        const from = url.searchParams.get('from') ? new Date(url.searchParams.get('from')!) : new Date(to.getTime() - 3600_000);
        if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) throw new HttpError(400, 'from and to must be ISO 8601 times with from before to');
        const bucket = url.searchParams.get('bucketSeconds');
        const bucketSeconds = bucket === null ? undefined : Number(bucket);
        if (bucketSeconds !== undefined && !(Number.isInteger(bucketSeconds) && bucketSeconds >= 1)) throw new HttpError(400, 'bucketSeconds must be a whole number of seconds >= 1');
        const range = { from, to, ...(bucketSeconds !== undefined ? { bucketSeconds } : {}) };
        let metrics: unknown;
        try {
          metrics = await this.#store().userMetrics(userId, range);
        } catch (error) {
          // The range checks of the store (too many buckets for the range) are the caller's to fix.
          if (error instanceof RangeError) throw new HttpError(400, error.message);
          throw error;
        }
        send(res, 200, { userId, from: from.toISOString(), to: to.toISOString(), metrics });
        return;
      }
      default:
        if (this.extra && (await this.extra(req, res, url))) return;
        send(res, 404, { error: `no route ${route}` });
    }
  }

  #store(): HttpStore {
    if (!this.store) throw new HttpError(503, 'no database is configured');
    return this.store;
  }
}
