// Token verification with jose: an identity provider's keys from a JWKS URL (RS256), issuer and
// audience checks, expiry, and the HS256 secret's refusals. The JWKS is served on 127.0.0.1 by the
// test, as an identity provider would serve it.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Authenticator, AuthError } from '../src/auth.js';

let server: Server;
let jwksUrl: string;
let privateKey: CryptoKey;
let otherKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  privateKey = pair.privateKey;
  otherKey = (await generateKeyPair('RS256')).privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  jwksUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const rs = (key: CryptoKey, claims: Record<string, unknown> = {}, exp = '5m') =>
  new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('alice').setIssuer('https://idp.test/').setAudience('aic-api').setExpirationTime(exp).sign(key);

describe('Authenticator', () => {
  it('verifies RS256 tokens against a JWKS URL, with issuer and audience', async () => {
    const auth = new Authenticator({ jwksUrl, issuer: 'https://idp.test/', audience: ['aic-api', 'dashboard'] });
    expect(await auth.verify(`Bearer ${await rs(privateKey, { scope: 'aic:service other' })}`)).toEqual({ userId: 'alice', service: true });
    expect(await auth.verify(`bearer ${await rs(privateKey)}`)).toEqual({ userId: 'alice', service: false });
  });

  it('refuses a token signed by another key, of another issuer or audience, or expired', async () => {
    const auth = new Authenticator({ jwksUrl, issuer: 'https://idp.test/', audience: 'aic-api' });
    const refused = async (header: string | undefined) => auth.verify(header).then(() => null, (e: AuthError) => e.kind);
    expect(await refused(`Bearer ${await rs(otherKey)}`)).toBe('unauthenticated');
    expect(await refused(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('a').setIssuer('https://evil.test/').setAudience('aic-api').setExpirationTime('5m').sign(privateKey)}`)).toBe('unauthenticated');
    expect(await refused(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setSubject('a').setIssuer('https://idp.test/').setAudience('other').setExpirationTime('5m').sign(privateKey)}`)).toBe('unauthenticated');
    expect(await refused(`Bearer ${await rs(privateKey, {}, '-1m')}`)).toBe('unauthenticated');
    expect(await refused(undefined)).toBe('unauthenticated');
    expect(await refused('Basic abc')).toBe('unauthenticated');
  });

  it('with an HS256 secret refuses other algorithms and tokens without a subject', async () => {
    const secret = 'a-secret-that-is-long-enough-for-hs256!';
    const auth = new Authenticator({ secret });
    const key = new TextEncoder().encode(secret);
    expect((await auth.verify(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').setExpirationTime('5m').sign(key)}`)).userId).toBe('bob');
    await expect(auth.verify(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(key)}`)).rejects.toThrow(/sub/);
    await expect(auth.verify(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS512' }).setSubject('bob').setExpirationTime('5m').sign(key)}`)).rejects.toThrow(/invalid token/);
    // A token that never expires is refused, and so is the subject '*'.
    await expect(auth.verify(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('bob').sign(key)}`)).rejects.toThrow(/exp/);
    await expect(auth.verify(`Bearer ${await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('*').setExpirationTime('5m').sign(key)}`)).rejects.toThrow(/'\*'/);
  });

  it('lets only a service token act for another user', () => {
    expect(Authenticator.actingFor({ userId: 'sfu', service: true }, 'carol')).toBe('carol');
    expect(Authenticator.actingFor({ userId: 'alice', service: false }, undefined)).toBe('alice');
    expect(() => Authenticator.actingFor({ userId: 'alice', service: false }, 'carol')).toThrow(AuthError);
  });
});
