// One AI Core process: the core over the engine, gRPC and HTTP over the core, the database.
// startService() brings them up in order and returns a handle whose close() shuts down gracefully:
// readiness goes false first, new calls are refused, calls and streams in flight finish (up to a
// grace period), session rows are flushed, then everything closes.
import { Registry } from 'prom-client';
import type { EngineOptions, SessionDefaults } from '@auralink/aic';
import { Authenticator, type AuthOptions } from './auth.js';
import { AiCore, type CoreStore } from './core.js';
import { GrpcServer, type TlsFiles } from './grpc/server.js';
import { HttpServer, type HttpStore } from './http/server.js';

export interface ServiceOptions {
  grpc: { host: string; port: number };
  http: { host: string; port: number };
  tls?: TlsFiles | undefined;
  plaintext?: boolean | undefined;
  auth: AuthOptions;
  prometheus: boolean;
  engine?: EngineOptions;
  /** Defaults of every session: loadConfig().session. */
  defaults: SessionDefaults;
  /** The database layer (service/src/store), or none: no per-user settings or history. */
  store?: (CoreStore & HttpStore & { close(): Promise<void> }) | undefined;
  /** How long close() lets calls in flight finish before cancelling them (default 10 s). */
  shutdownGraceMs?: number;
  /** Requests a stream may have waiting before the service stops reading it (default 4). */
  streamWindow?: number;
  /** Extra HTTP routes (the dashboard). */
  httpRoutes?: ConstructorParameters<typeof HttpServer>[5];
}

export interface RunningService {
  readonly core: AiCore;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly registry: Registry;
  readonly grpc: GrpcServer;
  readonly http: HttpServer;
  close(): Promise<void>;
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const registry = new Registry();
  const auth = new Authenticator(options.auth);
  const core = await AiCore.start({ ...(options.engine ? { engine: options.engine } : {}), defaults: options.defaults, registry, store: options.store });
  let grpc: GrpcServer;
  let http: HttpServer | undefined;
  try {
    grpc = new GrpcServer(core, auth, { address: `${options.grpc.host}:${options.grpc.port}`, tls: options.tls, plaintext: options.plaintext, streamWindow: options.streamWindow });
    http = new HttpServer(core, auth, registry, options.store, { host: options.http.host, port: options.http.port, tls: options.tls, plaintext: options.plaintext, prometheus: options.prometheus }, options.httpRoutes);
    await http.listen();
    await grpc.listen();
  } catch (error) {
    if (http?.server.listening) await http.close().catch(() => undefined);
    await core.close();
    throw error;
  }
  const h = http;
  h.setReady(true);
  let closing: Promise<void> | undefined;
  return {
    core,
    grpcPort: grpc.port,
    httpPort: http.port,
    registry,
    grpc,
    http: h,
    close() {
      closing ??= (async () => {
        // Readiness first, so load balancers stop sending before anything is refused.
        h.setReady(false);
        grpc.drain();
        core.drain();
        await grpc.close(options.shutdownGraceMs ?? 10_000);
        await core.close();
        // HTTP before the store: a config or metrics request during shutdown is answered, not refused.
        await h.close();
        await options.store?.close();
      })();
      return closing;
    },
  };
}
