// The gRPC side: auralink.aic.v1.AICCompressionService over the core, plus the standard
// grpc.health.v1.Health and server reflection (so grpcurl and other languages' tools can call it
// from the running server alone).
import { readFileSync } from 'node:fs';
import { Metadata, ResponderBuilder, Server, ServerCredentials, ServerInterceptingCall, ServerListenerBuilder, status as GrpcStatus, type ServerInterceptingCallInterface, type ServiceDefinition, type ServerDuplexStream, type ServerUnaryCall, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { analyzeNetworkConditions, MAX_DATA_BYTES } from '@auralink/aic';
import { Authenticator, AuthError, type Caller } from '../auth.js';
import type { AiCore } from '../core.js';
import { analysisResponse, compressResponse, decompressResponse, frameType, grpcStatusOf, hintsResponse, mode, RequestError, toFrame, toNetwork, type CompressFrameRequest, type DecompressFrameRequest, type ProtoNetwork } from './convert.js';

export const SERVICE_NAME = 'auralink.aic.v1.AICCompressionService';
// The .proto ships in the library package (the client loads it too): proto/auralink/aic/v1/aic.proto.
export const PROTO_FILE = require.resolve('@auralink/aic/proto/auralink/aic/v1/aic.proto');

export function loadProto(): PackageDefinition {
  return loadSync(PROTO_FILE, { keepCase: true, enums: String, longs: Number, defaults: true, oneofs: true });
}

export interface TlsFiles {
  cert: string;
  key: string;
  /** CA bundle to verify client certificates with (mutual TLS). */
  ca?: string | undefined;
  /** Require a client certificate signed by `ca`. */
  requireClientCert?: boolean | undefined;
}

export interface GrpcOptions {
  /** host:port to listen on (AI_CORE_GRPC_ENDPOINT); port 0 picks a free one. */
  address: string;
  /** TLS from certificate files; plaintext only when `plaintext` is set. */
  tls?: TlsFiles | undefined;
  plaintext?: boolean | undefined;
  /** Requests a stream may have waiting before the service stops reading it (default 4). */
  streamWindow?: number | undefined;
}

export function serverCredentials(tls: TlsFiles | undefined, plaintext: boolean | undefined): ServerCredentials {
  if (tls) {
    return ServerCredentials.createSsl(tls.ca ? readFileSync(tls.ca) : null, [{ private_key: readFileSync(tls.key), cert_chain: readFileSync(tls.cert) }], tls.requireClientCert ?? false);
  }
  if (!plaintext) throw new Error('gRPC needs TLS (AIC_TLS_CERT and AIC_TLS_KEY) or plaintext asked for explicitly (AIC_PLAINTEXT=true)');
  return ServerCredentials.createInsecure();
}

function authHeader(metadata: Metadata): string | undefined {
  const v = metadata.get('authorization')[0];
  return typeof v === 'string' ? v : v ? v.toString() : undefined;
}

function authStatus(error: AuthError) {
  return { code: error.kind === 'unauthenticated' ? GrpcStatus.UNAUTHENTICATED : GrpcStatus.PERMISSION_DENIED, details: error.message };
}

function failure(error: unknown): { code: GrpcStatus; details: string } {
  if (error instanceof AuthError) return authStatus(error);
  if ((error as { shuttingDown?: boolean })?.shuttingDown) return { code: GrpcStatus.UNAVAILABLE, details: 'the service is shutting down; retry on another replica' };
  return grpcStatusOf(error);
}

/** A call cancelled because its deadline passed (not one the client cancelled itself). */
function pastDeadline(call: { cancelled: boolean; getDeadline(): Date | number }): boolean {
  if (!call.cancelled) return false;
  const d = call.getDeadline();
  const ms = d instanceof Date ? d.getTime() : d;
  return Number.isFinite(ms) && Date.now() >= ms;
}

let streamIds = 0;

export class GrpcServer {
  readonly server: Server;
  readonly health: HealthImplementation;
  port = 0;
  readonly #streams = new Set<ServerDuplexStream<unknown, unknown>>();

  constructor(
    readonly core: AiCore,
    readonly auth: Authenticator,
    readonly options: GrpcOptions,
  ) {
    const definition = loadProto();
    this.server = new Server({
      // A raw frame is up to 64 MiB (the library's own limit); a little more for the rest of the message.
      'grpc.max_receive_message_length': MAX_DATA_BYTES + 64 * 1024,
      'grpc.max_send_message_length': MAX_DATA_BYTES + 64 * 1024,
      // Streams one connection may hold at once (each may hold a few frames): a bound per client.
      'grpc.max_concurrent_streams': 256,
      // The token is checked on the call's metadata, before any message (a frame of up to 64 MiB)
      // is read: an unauthenticated caller cannot make the service buffer frames.
      interceptors: [(descriptor, call) => this.#authenticateFirst(descriptor.path, call)],
    });
    // proto-loader keys each service's definition by its full name.
    this.server.addService(definition[SERVICE_NAME] as ServiceDefinition, this.#implementation());
    this.health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
    this.health.addToServer(this.server);
    new ReflectionService(definition).addToServer(this.server);
  }

  #authenticateFirst(methodPath: string, call: ServerInterceptingCallInterface): ServerInterceptingCall {
    const ours = methodPath.startsWith(`/${SERVICE_NAME}/`);
    const responder = new ResponderBuilder()
      .withStart((next) => {
        next(
          new ServerListenerBuilder()
            .withOnReceiveMetadata((metadata, mdNext) => {
              if (!ours) return mdNext(metadata);
              this.auth.verify(authHeader(metadata)).then(
                () => mdNext(metadata),
                (error: unknown) => call.sendStatus(error instanceof AuthError ? authStatus(error) : { code: GrpcStatus.UNAUTHENTICATED, details: 'invalid credentials' }),
              );
            })
            .build(),
        );
      })
      .build();
    return new ServerInterceptingCall(call, responder);
  }

  async listen(): Promise<number> {
    const creds = serverCredentials(this.options.tls, this.options.plaintext);
    this.port = await new Promise<number>((resolve, reject) => this.server.bindAsync(this.options.address, creds, (error, port) => (error ? reject(error) : resolve(port))));
    return this.port;
  }

  /** Readiness off: health checks answer NOT_SERVING, new calls are refused as UNAVAILABLE. */
  drain(): void {
    this.health.setStatus('', 'NOT_SERVING');
    this.health.setStatus(SERVICE_NAME, 'NOT_SERVING');
  }

  /** Stops accepting calls and waits for those in flight (streams included) up to `graceMs`, then cancels what is left. */
  async close(graceMs = 10_000): Promise<void> {
    this.drain();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async #caller(metadata: Metadata): Promise<Caller> {
    return this.auth.verify(authHeader(metadata));
  }

  #implementation(): UntypedServiceImplementation {
    const core = this.core;
    const unary =
      <Req, Res>(handle: (caller: Caller, req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) =>
      (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
        this.#caller(call.metadata)
          .then((caller) => handle(caller, call.request, call))
          .then(
            (res) => {
              // Past its deadline the caller has gone: the frame was coded (and counted under the
              // status it was coded with), but nobody got it.
              if (pastDeadline(call)) core.metrics.recordFailure('timeout', 'DEADLINE_EXCEEDED');
              callback(null, res);
            },
            (error) => {
              const f = failure(error);
              if (pastDeadline(call)) core.metrics.recordFailure('timeout', 'DEADLINE_EXCEEDED');
              callback(f);
            },
          );
      };

    const compressOne = async (caller: Caller, req: CompressFrameRequest, sessionId: string) => {
      const userId = Authenticator.actingFor(caller, req.user_id || undefined);
      const frame = toFrame(req);
      const overrides = {
        mode: mode(req.mode),
        targetCompressionRatio: req.target_compression_ratio || undefined,
        maxLatencyMs: req.max_latency_ms || undefined,
        minQualityScore: req.min_quality_score || undefined,
      };
      const result = await core.compress(userId, sessionId, frame, overrides, toNetwork(req.network));
      return compressResponse(sessionId, req.sequence ?? 0, result, core.engine.codedBy(result));
    };

    const decompressOne = async (caller: Caller, req: DecompressFrameRequest, sessionId: string | undefined) => {
      const userId = Authenticator.actingFor(caller, req.user_id || undefined);
      if (!req.compressed_data || req.compressed_data.length === 0) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, 'compressed_data is empty');
      const frame = await core.decompress(userId, sessionId, req.compressed_data);
      return decompressResponse(sessionId ?? '', req.sequence ?? 0, frame);
    };

    return {
      CompressFrame: unary<CompressFrameRequest, unknown>((caller, req) => {
        if (!req.session_id) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, 'session_id is required for CompressFrame (the stream the frame belongs to)');
        return compressOne(caller, req, req.session_id);
      }),
      DecompressFrame: unary<DecompressFrameRequest, unknown>((caller, req) => decompressOne(caller, req, req.session_id || undefined)),
      CompressStream: (call: ServerDuplexStream<CompressFrameRequest, unknown>) =>
        this.#stream(call, 'CompressStream', (caller, req, sessionId) => compressOne(caller, req, sessionId), (sessionId, seq, error) => ({
          session_id: sessionId,
          sequence: seq,
          status: (error as { code?: number })?.code === GrpcStatus.DEADLINE_EXCEEDED ? 'COMPRESSION_STATUS_TIMEOUT' : 'COMPRESSION_STATUS_ERROR',
          error_message: failure(error).details,
        })),
      DecompressStream: (call: ServerDuplexStream<DecompressFrameRequest, unknown>) =>
        this.#stream(call, 'DecompressStream', (caller, req, sessionId) => decompressOne(caller, req, sessionId), (sessionId, seq, error) => ({ session_id: sessionId, sequence: seq, ok: false, error_message: failure(error).details })),
      GetCompressionHints: unary<{ session_id?: string; user_id?: string; frame_type?: string; metadata?: Record<string, number> | null; network?: ProtoNetwork | null }, unknown>(async (caller, req) => {
        const userId = Authenticator.actingFor(caller, req.user_id || undefined);
        const md = req.metadata ?? {};
        const meta = { type: frameType(req.frame_type), ...(md.width ? { width: md.width } : {}), ...(md.height ? { height: md.height } : {}), ...(md.fps ? { fps: md.fps } : {}), ...(md.sample_rate ? { sampleRate: md.sample_rate } : {}), ...(md.channels ? { channels: md.channels } : {}) };
        return hintsResponse(await core.hints(userId, req.session_id ?? '', meta as never, toNetwork(req.network)));
      }),
      AnalyzeNetworkConditions: unary<{ samples?: ProtoNetwork[]; requested_mode?: string }, unknown>(async (_caller, req) => {
        const samples = (req.samples ?? []).map((s) => toNetwork(s) ?? {});
        if (samples.length === 0) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, 'samples must hold at least one network measurement');
        return analysisResponse(analyzeNetworkConditions(samples, mode(req.requested_mode) ?? 'adaptive'));
      }),
      EndSession: unary<{ session_id?: string; user_id?: string }, unknown>(async (caller, req) => {
        if (!req.session_id) throw new RequestError(GrpcStatus.INVALID_ARGUMENT, 'session_id is required for EndSession');
        return { ended: core.endSession(Authenticator.actingFor(caller, req.user_id || undefined), req.session_id) };
      }),
      HealthCheck: unary<unknown, unknown>(async () => {
        const h = await core.health();
        return { status: h.status, version: core.version, reasons: h.reasons, models: h.models, execution_provider: h.provider, active_sessions: core.activeSessions, database_connected: h.databaseConnected };
      }),
    };
  }

  /**
   * One session per stream, requests answered in order. Flow control: at most `streamWindow`
   * requests are read ahead of the response being written; when the client reads slowly
   * (write() returns false) reading stops until 'drain'. So a slow reader holds a few frames of
   * memory, not the whole stream.
   */
  #stream<Req extends { session_id?: string; sequence?: number }>(
    call: ServerDuplexStream<Req, unknown>,
    kind: string,
    handle: (caller: Caller, req: Req, sessionId: string) => Promise<unknown>,
    errorResponse: (sessionId: string, sequence: number, error: unknown) => unknown,
  ): void {
    const window = this.options.streamWindow ?? 4;
    this.#streams.add(call as ServerDuplexStream<unknown, unknown>);
    let sessionId = '';
    let userForSession = '';
    let pending = 0;
    let chain: Promise<void> = Promise.resolve();
    let ended = false;
    let finished = false;
    let blocked = false; // write() returned false: waiting for 'drain'
    const callerP = this.#caller(call.metadata);
    const finish = (status?: { code: GrpcStatus; details: string }) => {
      if (finished) return;
      finished = true;
      this.#streams.delete(call as ServerDuplexStream<unknown, unknown>);
      if (sessionId && userForSession) this.core.endSession(userForSession, sessionId);
      if (call.cancelled) return;
      if (status) call.emit('error', { code: status.code, details: status.details });
      else call.end();
    };
    const flow = () => {
      if (pending >= window || blocked) call.pause();
      else call.resume();
    };
    call.on('drain', () => {
      blocked = false;
      flow();
    });
    call.on('cancelled', () => finish());
    call.on('error', () => finish());
    call.on('data', (req: Req) => {
      pending++;
      flow();
      chain = chain.then(async () => {
        if (finished) return;
        let caller: Caller;
        try {
          caller = await callerP;
        } catch (error) {
          finish(failure(error));
          return;
        }
        let response: unknown;
        try {
          // One stream, one session, one user: the first message names them, later ones may not
          // change the user (their session would outlive the stream).
          const user = Authenticator.actingFor(caller, (req as { user_id?: string }).user_id || undefined);
          if (!sessionId) {
            sessionId = req.session_id || `${kind}-${process.pid}-${++streamIds}`;
            userForSession = user;
          } else if (user !== userForSession) {
            throw new RequestError(GrpcStatus.INVALID_ARGUMENT, `user_id ${user} differs from this stream's user ${userForSession}: one stream carries one user's frames`);
          }
          response = await handle(caller, req, sessionId);
        } catch (error) {
          if (error instanceof AuthError) {
            finish(authStatus(error));
            return;
          }
          if ((error as { shuttingDown?: boolean })?.shuttingDown) {
            finish(failure(error));
            return;
          }
          response = errorResponse(sessionId, req.sequence ?? 0, error);
        }
        pending--;
        if (finished || call.cancelled) return;
        if (!call.write(response)) blocked = true;
        flow();
        if (ended && pending === 0) finish();
      }).catch((error: unknown) => finish(failure(error)));
    });
    call.on('end', () => {
      ended = true;
      chain = chain.then(() => {
        if (pending === 0) finish();
      });
    });
  }

  /** Streams open now. */
  get openStreams(): number {
    return this.#streams.size;
  }
}
