#!/usr/bin/env node
// Starts the AI Core from the environment (docs/configuration.md): `npm run service` in the
// repository, or `npx aic-service`. With no DATABASE_URL it runs on an embedded PostgreSQL
// (PGlite, in memory unless AIC_DATA_DIR names a folder), which one replica alone can use.
import { formatConfigTable, loadConfig, redactConfig, serviceTransport } from '@auralink/aic';
import { dashboardRoutes } from './http/dashboard.js';
import { Persistence } from './persistence.js';
import { startService } from './service.js';
import { openStore } from './store/index.js';

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`aic-service: the AI Core (gRPC on AI_CORE_GRPC_ENDPOINT, HTTP on AI_CORE_HTTP_ENDPOINT)\n\nEnvironment:\n${formatConfigTable('text')}\n`);
    return;
  }
  const config = loadConfig(process.env);
  for (const warning of config.warnings) process.stderr.write(`aic-service: warning: ${warning}\n`);
  const transport = serviceTransport(config.service.tls);
  const s = config.service;
  const store = await openStore({
    ...(s.database.url ? { databaseUrl: s.database.url } : {}),
    ...(s.database.dataDir ? { dataDir: s.database.dataDir } : {}),
    defaultRetentionHours: config.session.dataRetentionHours,
  });
  if (!s.database.url) {
    process.stderr.write(
      'aic-service: no DATABASE_URL: using the embedded PostgreSQL (PGlite)' + (s.database.dataDir ? ` in ${s.database.dataDir}` : ', in memory (AIC_DATA_DIR unset): settings and history are lost on exit') +
        '. It serves this one process only: several replicas, psql or other tools need a PostgreSQL server (DATABASE_URL).\n',
    );
  }
  const persistence = new Persistence(store);
  const auth = s.auth.jwtSecret
    ? { secret: s.auth.jwtSecret }
    : s.auth.jwksUrl
      ? { jwksUrl: s.auth.jwksUrl }
      : s.auth.disabled
        ? { disabled: true }
        : undefined;
  if (!auth) throw new Error('set AIC_JWT_SECRET (HS256) or AIC_JWKS_URL for the service to verify Bearer tokens (AIC_AUTH_DISABLED=true only for local experiments)');
  const service = await startService({
    grpc: { host: s.grpc.host, port: s.grpc.port },
    http: { host: s.http.host, port: s.http.port },
    ...(transport.kind === 'plaintext' ? { plaintext: true } : { tls: { cert: transport.cert, key: transport.key, ca: transport.ca ?? undefined, requireClientCert: transport.clientAuth } }),
    auth: { ...auth, ...(s.auth.issuer ? { issuer: s.auth.issuer } : {}), ...(s.auth.audience?.length ? { audience: [...s.auth.audience] } : {}) },
    prometheus: s.prometheus.enabled,
    engine: { executionProvider: config.engine.executionProvider },
    defaults: config.session,
    store: persistence,
    httpRoutes: dashboardRoutes(),
  });
  process.stderr.write(
    `aic-service: gRPC on ${s.grpc.host}:${service.grpcPort}, HTTP on ${s.http.host}:${service.httpPort} (${transport.kind === 'plaintext' ? 'plaintext' : 'TLS'}); ${store.backend}; config ${JSON.stringify(redactConfig(config))}\n`,
  );
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`aic-service: ${signal}: draining (readiness off, calls in flight finish, rows flushed)\n`);
    service.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`aic-service: shutdown failed: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: Error & { code?: string }) => {
  process.stderr.write(`aic-service: ${error.code ? `${error.code}: ` : ''}${error.message}\n`);
  process.exit(1);
});
