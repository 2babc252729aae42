// The gRPC stack of the AI Core client, loaded only when createClient() is called: @grpc/grpc-js
// is an optional peer dependency, so a server that embeds the library without the client installs
// no gRPC at all (and grpc-js's protobufjs, whose install script npm warns about, stays out of the
// library's own install).
import path from 'node:path';
import { AicError } from '../errors.js';
import { packageRoot } from '../native/load.js';

// Just what the client uses of grpc-js, typed here so that the library builds without it.
export interface GrpcModule {
  credentials: {
    createInsecure(): unknown;
    createSsl(rootCerts?: Buffer | null, privateKey?: Buffer | null, certChain?: Buffer | null): unknown;
  };
  Metadata: new () => { set(key: string, value: string): void };
  loadPackageDefinition(definition: unknown): Record<string, any>;
  status: Record<string, number>;
  connectivityState: Record<string, number>;
}

export interface LoadedGrpc {
  grpc: GrpcModule;
  /** The AICCompressionService client constructor. */
  Service: new (address: string, credentials: unknown, options?: Record<string, unknown>) => any;
}

let loaded: LoadedGrpc | undefined;

/** The .proto this package ships; the service and the client share it. */
export const PROTO_FILE = path.join(packageRoot, 'proto', 'auralink', 'aic', 'v1', 'aic.proto');

export function loadGrpc(): LoadedGrpc {
  if (loaded) return loaded;
  let grpc: GrpcModule;
  let protoLoader: { loadSync(file: string, options: Record<string, unknown>): unknown };
  try {
    // Resolved from the application first (its own grpc-js), then from this package.
    const from = { paths: [process.cwd(), packageRoot] };
    grpc = require(require.resolve('@grpc/grpc-js', from)) as GrpcModule;
    protoLoader = require(require.resolve('@grpc/proto-loader', { paths: [path.dirname(require.resolve('@grpc/grpc-js', from)), ...from.paths] })) as typeof protoLoader;
  } catch (error) {
    throw new AicError('DEPENDENCY_MISSING', 'createClient() needs @grpc/grpc-js, an optional peer dependency of @auralink/aic: run `npm install @grpc/grpc-js`', { cause: error });
  }
  const definition = protoLoader.loadSync(PROTO_FILE, { keepCase: true, enums: String, longs: Number, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition);
  loaded = { grpc, Service: pkg.auralink.aic.v1.AICCompressionService };
  return loaded;
}
