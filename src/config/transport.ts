// What each side of the gRPC link does with the TLS variables: the service needs a certificate
// unless plaintext was asked for; a client uses TLS (the system's roots unless AIC_TLS_CA) unless
// plaintext was asked for. Paths only: reading the files is the caller's (grpc-js takes Buffers).
import { invalidCombination } from './invalid.js';
import type { TlsConfig } from './types.js';

export type ServiceTransport =
  | { readonly kind: 'plaintext' }
  | { readonly kind: 'tls'; readonly cert: string; readonly key: string; readonly ca: string | null; readonly clientAuth: boolean };

export type ClientTransport =
  | { readonly kind: 'plaintext' }
  /** `ca` null: the system's roots; `cert`/`key` set: mutual TLS. */
  | { readonly kind: 'tls'; readonly ca: string | null; readonly cert: string | null; readonly key: string | null };

/**
 * How the service listens: TLS with AIC_TLS_CERT / AIC_TLS_KEY (and client certificates with
 * AIC_TLS_CLIENT_AUTH), or plaintext with AIC_PLAINTEXT=true. Neither: AicError INVALID_CONFIG,
 * since the service never falls back to plaintext on its own.
 */
export function serviceTransport(tls: TlsConfig): ServiceTransport {
  if (tls.plaintext) return { kind: 'plaintext' };
  if (tls.cert === null || tls.key === null) {
    throw invalidCombination('AIC_TLS_CERT and AIC_TLS_KEY (environment) are not set: the service listens with TLS unless AIC_PLAINTEXT=true asks for plaintext; set the certificate and key files, or AIC_PLAINTEXT=true');
  }
  return { kind: 'tls', cert: tls.cert, key: tls.key, ca: tls.ca, clientAuth: tls.clientAuth };
}

/** How a client connects: plaintext only with AIC_PLAINTEXT=true, else TLS. */
export function clientTransport(tls: TlsConfig): ClientTransport {
  if (tls.plaintext) return { kind: 'plaintext' };
  return { kind: 'tls', ca: tls.ca, cert: tls.cert, key: tls.key };
}
