// The service as the tests start it: on loopback, free ports, plaintext, a CPU engine, the
// environment's defaults with no latency budget (so every frame takes the verified closed loop),
// and HS256 tokens signed with the test's secret.
import { SignJWT } from 'jose';
import { loadConfig } from '@auralink/aic';
import type { AuthOptions } from '../../src/auth.js';
import { startService, type RunningService, type ServiceOptions } from '../../src/service.js';

export const TEST_DEFAULTS = loadConfig({ AIC_MAX_LATENCY_MS: 'Infinity' }).session;

export function startTestService(auth: AuthOptions, extra: Partial<ServiceOptions> = {}): Promise<RunningService> {
  return startService({
    grpc: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    plaintext: true,
    auth,
    prometheus: true,
    engine: { executionProvider: 'cpu' },
    defaults: TEST_DEFAULTS,
    ...extra,
  });
}

/** An HS256 token for `sub`, valid for ten minutes, with extra claims (e.g. { scope: 'aic:service' }). */
export function signToken(secret: string, sub: string, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('10m').sign(new TextEncoder().encode(secret));
}
