/**
 * The development issuer: an RSA key pair kept in .data/dev-issuer (created on first use), a JWKS served on
 * loopback for the API to verify with, and Cognito-shaped access tokens signed with that key. For `npm run dev`,
 * `npm run token`, the tests and the benchmark. Production refuses it (an http:// JWKS URL is refused there).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  sign,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ROOT } from '../root.js';
import { SCOPES } from '../../src/auth/scopes.js';

/** A made-up pool in Cognito's own id format, so the API verifies dev tokens exactly like real ones. */
export const DEV_USER_POOL_ID = 'us-east-1_RunwayDev';
export const DEV_CLIENT_ID = 'runway-dev-client';
export const DEV_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${DEV_USER_POOL_ID}`;
/** Where the development key pair lives (git-ignored). */
export const DEV_ISSUER_DIR = join(ROOT, '.data', 'dev-issuer');

export interface SigningKey {
  kid: string;
  privateKeyPem: string;
  jwks: { keys: object[] };
}

export function createSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify(jwk)).digest('base64url').slice(0, 16);
  return {
    kid,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    jwks: { keys: [{ ...jwk, kid, alg: 'RS256', use: 'sig' }] },
  };
}

/** The key in `dir`, created on first use. */
export function loadOrCreateSigningKey(dir: string): SigningKey {
  const file = join(dir, 'signing-key.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as SigningKey;
  const key = createSigningKey();
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return key;
}

/** Serves `jwks` at http://127.0.0.1:<port>/.well-known/jwks.json until closed. */
export async function serveJwks(jwks: object, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const body = JSON.stringify(jwks);
  const server = createServer((request, response) => {
    const found = request.url === '/.well-known/jwks.json';
    response.writeHead(found ? 200 : 404, { 'content-type': 'application/json' }).end(found ? body : '{}');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}/.well-known/jwks.json`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Signs any header and payload with RS256 (the tests use it to forge hostile tokens too). */
export function signJwt(header: object, payload: object, privateKeyPem: string): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  return `${input}.${base64url(sign('RSA-SHA256', Buffer.from(input), createPrivateKey(privateKeyPem)))}`;
}

export interface AccessTokenOptions {
  /** A user token when set; a machine (client-credentials) token otherwise. */
  username?: string;
  sub?: string;
  email?: string;
  groups?: string[];
  scope?: string;
  clientId?: string;
  issuer?: string;
  expiresInSeconds?: number;
}

/** Claims shaped like a Cognito access token (user or client-credentials). */
export function accessTokenClaims(options: AccessTokenOptions): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const clientId = options.clientId ?? DEV_CLIENT_ID;
  return {
    sub: options.sub ?? (options.username ? randomUUID() : clientId),
    ...(options.groups?.length ? { 'cognito:groups': options.groups } : {}),
    iss: options.issuer ?? DEV_ISSUER,
    version: 2,
    client_id: clientId,
    origin_jti: randomUUID(),
    token_use: 'access',
    scope:
      options.scope ??
      (options.username ? 'aws.cognito.signin.user.admin' : `${SCOPES.tasksWrite} ${SCOPES.tasksRead}`),
    auth_time: now,
    exp: now + (options.expiresInSeconds ?? 3600),
    iat: now,
    jti: randomUUID(),
    ...(options.username ? { username: options.username } : {}),
    ...(options.email ? { email: options.email } : {}),
  };
}

export function mintAccessToken(key: SigningKey, options: AccessTokenOptions): string {
  return signJwt({ alg: 'RS256', kid: key.kid }, accessTokenClaims(options), key.privateKeyPem);
}
