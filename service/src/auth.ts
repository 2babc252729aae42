// Who is calling: a JWT in `Authorization: Bearer <token>` (HTTP header or gRPC metadata),
// verified with jose against an HS256 secret or a JWKS URL. Its `sub` is the user; scope
// `aic:service` marks the media server's own token, which may act for the users it names.
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';

export interface AuthOptions {
  /** HS256 shared secret (AIC_JWT_SECRET). */
  secret?: string;
  /** A JWKS URL (AIC_JWKS_URL) for RS256/ES256 tokens of an identity provider. */
  jwksUrl?: string;
  issuer?: string;
  audience?: string | string[];
  /** No tokens at all: every caller is `anonymousUser`. Only when asked for (tests, local use). */
  disabled?: boolean;
}

export interface Caller {
  userId: string;
  /** The token may act for other users (scope aic:service). */
  service: boolean;
}

export class AuthError extends Error {
  constructor(
    readonly kind: 'unauthenticated' | 'forbidden',
    message: string,
  ) {
    super(message);
  }
}

export const SERVICE_SCOPE = 'aic:service';

export class Authenticator {
  readonly #secret: Uint8Array | undefined;
  readonly #jwks: JWTVerifyGetKey | undefined;

  constructor(readonly options: AuthOptions) {
    if (!options.disabled && !options.secret && !options.jwksUrl) {
      throw new Error('authentication needs AIC_JWT_SECRET or AIC_JWKS_URL (or auth disabled explicitly for local use)');
    }
    this.#secret = options.secret ? new TextEncoder().encode(options.secret) : undefined;
    this.#jwks = options.jwksUrl ? createRemoteJWKSet(new URL(options.jwksUrl)) : undefined;
  }

  /** Verifies `Bearer <jwt>`; throws AuthError('unauthenticated') with the reason. */
  async verify(header: string | undefined): Promise<Caller> {
    if (this.options.disabled) return { userId: 'anonymous', service: true };
    if (!header) throw new AuthError('unauthenticated', 'missing Authorization: Bearer <token>');
    const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
    if (!m) throw new AuthError('unauthenticated', 'Authorization must be "Bearer <token>"');
    let payload: JWTPayload;
    try {
      // A token must expire: one without `exp` would be good forever once leaked.
      const verifyOptions = { requiredClaims: ['exp', 'sub'], ...(this.options.issuer ? { issuer: this.options.issuer } : {}), ...(this.options.audience ? { audience: this.options.audience } : {}) };
      payload = this.#secret ? (await jwtVerify(m[1]!, this.#secret, { ...verifyOptions, algorithms: ['HS256'] })).payload : (await jwtVerify(m[1]!, this.#jwks!, verifyOptions)).payload;
    } catch (error) {
      throw new AuthError('unauthenticated', `invalid token: ${(error as Error).message}`);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 200) throw new AuthError('unauthenticated', 'the token has no subject (sub)');
    // '*' is the store's "every user" in its cache invalidations: no user may be called that.
    if (payload.sub === '*') throw new AuthError('unauthenticated', "the token's subject may not be '*'");
    const scope = typeof payload.scope === 'string' ? payload.scope.split(/\s+/) : Array.isArray(payload.scope) ? (payload.scope as string[]) : [];
    return { userId: payload.sub, service: scope.includes(SERVICE_SCOPE) };
  }

  /** The user a request acts for: the caller, or (service tokens only) the user it names. */
  static actingFor(caller: Caller, requested: string | undefined): string {
    if (!requested || requested === caller.userId) return caller.userId;
    if (!caller.service) throw new AuthError('forbidden', `this token is for user ${caller.userId} and may not act for ${requested} (needs scope ${SERVICE_SCOPE})`);
    if (requested.length > 200) throw new AuthError('forbidden', 'user_id is longer than 200 characters');
    return requested;
  }
}
