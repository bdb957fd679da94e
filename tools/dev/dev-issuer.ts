/**
 * The development issuer: an RSA key pair kept in .data/dev-issuer (created on first use), Cognito-shaped tokens
 * signed with that key, and a loopback server with the JWKS for the API to verify with and a Cognito-like sign-in
 * (dev-sign-in.ts). For `npm run dev`, `npm run token`, the tests and the benchmark. Production refuses it (an
 * http:// JWKS URL or sign-in domain is refused there).
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
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ROOT } from '../root.js';
import { SCOPES } from '../../src/auth/scopes.js';
import { createSignIn, type RouteHandler } from './dev-sign-in.js';

/** A made-up pool in Cognito's own id format, so the API verifies dev tokens exactly like real ones. */
export const DEV_USER_POOL_ID = 'us-east-1_RunwayDev';
export const DEV_CLIENT_ID = 'runway-dev-client';
export const DEV_ISSUER = `https://cognito-idp.us-east-1.amazonaws.com/${DEV_USER_POOL_ID}`;
/** Where the development key pair lives (git-ignored). */
export const DEV_ISSUER_DIR = join(ROOT, '.data', 'dev-issuer');
export const JWKS_PATH = '/.well-known/jwks.json';
const TOKEN_LIFETIME_SECONDS = 3600;
const SIGN_IN_SCOPE = 'openid email profile';

export interface DevUser {
  readonly username: string;
  readonly email: string;
  readonly groups: readonly string[];
}

/** The users the sign-in page offers; any other username may sign in too, in no group. */
export const DEV_USERS: readonly DevUser[] = Object.freeze([
  Object.freeze({ username: 'admin', email: 'admin@example.com', groups: Object.freeze(['admin']) }),
  Object.freeze({ username: 'alice', email: 'alice@example.com', groups: Object.freeze([]) }),
]);

/** A UUID derived from the username: the same person is the same Runway user across tokens and sign-ins. */
export function devUserSub(username: string): string {
  const hex = createHash('sha256').update(`runway-dev:${username}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

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

export interface LoopbackServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  jwksUrl: string;
  close(): Promise<void>;
}

export interface DevIssuerOptions {
  port?: number;
  /** The clients allowed to sign in (default: DEV_CLIENT_ID). */
  clientIds?: readonly string[];
  issuer?: string;
  users?: readonly DevUser[];
  /** Milliseconds since the epoch, for the expiry of sign-in codes (tests move it). */
  now?: () => number;
}

/** The JWKS of `key` and the sign-in (`/oauth2/authorize`, `/oauth2/token`, `/logout`) on loopback until closed. */
export function serveDevIssuer(key: SigningKey, options: DevIssuerOptions = {}): Promise<LoopbackServer> {
  const issuer = options.issuer ?? DEV_ISSUER;
  const signIn = createSignIn({
    clientIds: options.clientIds ?? [DEV_CLIENT_ID],
    users: options.users ?? DEV_USERS,
    now: options.now ?? Date.now,
    issueTokens: (user, clientId, signedInAt) => {
      const { username, email } = user;
      const identity = {
        username,
        sub: devUserSub(username),
        groups: [...user.groups],
        clientId,
        issuer,
        signedInAt,
      };
      return {
        // With the email, as production's pre-token-generation trigger adds it.
        accessToken: mintAccessToken(key, { ...identity, email, scope: SIGN_IN_SCOPE }),
        idToken: mintIdToken(key, { ...identity, email }),
        expiresIn: TOKEN_LIFETIME_SECONDS,
      };
    },
  });
  return listenOnLoopback(options.port ?? 0, [serveKeys(key.jwks), signIn]);
}

/** Only `jwks` at http://127.0.0.1:<port>/.well-known/jwks.json, until closed; `url` is the JWKS URL. */
export async function serveJwks(jwks: object, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = await listenOnLoopback(port, [serveKeys(jwks)]);
  return { url: server.jwksUrl, close: () => server.close() };
}

function serveKeys(jwks: object): RouteHandler {
  const body = JSON.stringify(jwks);
  return (request, response) => {
    if (new URL(request.url ?? '/', 'http://127.0.0.1').pathname !== JWKS_PATH) return Promise.resolve(false);
    response.writeHead(200, { 'content-type': 'application/json' }).end(body);
    return Promise.resolve(true);
  };
}

async function listenOnLoopback(port: number, routes: RouteHandler[]): Promise<LoopbackServer> {
  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    for (const route of routes) if (await route(request, response)) return;
    response.writeHead(404, { 'content-type': 'application/json' }).end('{}');
  };
  const server = createServer((request, response) => {
    answer(request, response).catch((error: unknown) => {
      process.stderr.write(`dev issuer: ${String(error)}\n`);
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  return {
    url,
    jwksUrl: `${url}${JWKS_PATH}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
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
  /** `auth_time`, seconds since the epoch: by default now; a refreshed token keeps its sign-in's. */
  signedInAt?: number;
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
    auth_time: options.signedInAt ?? now,
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

export interface IdTokenOptions {
  username: string;
  sub: string;
  email: string;
  groups: string[];
  clientId: string;
  issuer: string;
  signedInAt?: number;
}

/** An ID token as Cognito signs one for a user signed in through its managed login. */
export function mintIdToken(key: SigningKey, options: IdTokenOptions): string {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    sub: options.sub,
    ...(options.groups.length ? { 'cognito:groups': options.groups } : {}),
    email_verified: true,
    iss: options.issuer,
    'cognito:username': options.username,
    origin_jti: randomUUID(),
    aud: options.clientId,
    event_id: randomUUID(),
    token_use: 'id',
    auth_time: options.signedInAt ?? now,
    exp: now + TOKEN_LIFETIME_SECONDS,
    iat: now,
    jti: randomUUID(),
    email: options.email,
  };
  return signJwt({ alg: 'RS256', kid: key.kid }, claims, key.privateKeyPem);
}
