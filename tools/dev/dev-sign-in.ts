/**
 * The dev issuer's sign-in, shaped like Cognito's managed login: OAuth 2.0 authorization code with PKCE (S256) for
 * clients on loopback, refresh tokens (and their revocation), and logout. Codes and refresh tokens live in memory.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DevUser } from './dev-issuer.js';
import {
  errorPage,
  OTHER_USERNAME,
  pageHeaders,
  signInPage,
  type AuthorizeRequest,
} from './dev-sign-in-page.js';

export interface SignedTokens {
  accessToken: string;
  idToken: string;
  expiresIn: number;
}

export interface SignInOptions {
  clientIds: readonly string[];
  users: readonly DevUser[];
  /** `signedInAt`: when the user signed in (seconds since the epoch), which refreshed tokens keep as Cognito's do. */
  issueTokens(user: DevUser, clientId: string, signedInAt: number): SignedTokens;
  /** Milliseconds since the epoch: when codes expire. */
  now(): number;
}

/** Answers the request and returns true when its path is one of the sign-in routes. */
export type RouteHandler = (request: IncomingMessage, response: ServerResponse) => Promise<boolean>;

export const CODE_LIFETIME_MS = 5 * 60_000;
const MAX_FORM_BYTES = 16 * 1024;
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);
const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const LOOPBACK_ONLY = 'must be an http:// URL on localhost or 127.0.0.1.';
const PREFLIGHT_HEADERS = {
  'access-control-allow-methods': 'POST',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '600',
};

interface PendingCode extends AuthorizeRequest {
  user: DevUser;
  expiresAt: number;
}

type OAuthError = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unsupported_grant_type';

export function createSignIn(options: SignInOptions): RouteHandler {
  const codes = new Map<string, PendingCode>();
  const refreshTokens = new Map<string, { clientId: string; user: DevUser; signedInAt: number }>();

  const checkAuthorize = (parameters: URLSearchParams): AuthorizeRequest | string => {
    const clientId = parameters.get('client_id') ?? '';
    const redirectUri = parameters.get('redirect_uri') ?? '';
    if (parameters.get('response_type') !== 'code') return 'response_type must be "code".';
    if (!options.clientIds.includes(clientId)) return `Unknown client_id "${clientId}".`;
    if (!isLoopbackUrl(redirectUri)) return `redirect_uri ${LOOPBACK_ONLY}`;
    const codeChallenge = parameters.get('code_challenge') ?? '';
    const pkce = parameters.get('code_challenge_method') === 'S256' && CODE_CHALLENGE.test(codeChallenge);
    if (!pkce) return 'PKCE is required: a code_challenge with code_challenge_method=S256.';
    const state = parameters.get('state') ?? '';
    return { clientId, redirectUri, state, scope: parameters.get('scope') ?? '', codeChallenge };
  };

  const userNamed = (value: string | null): DevUser | undefined => {
    const username = value?.trim().toLowerCase() ?? '';
    const known = options.users.find((user) => user.username === username);
    if (known) return known;
    return OTHER_USERNAME.test(username)
      ? { username, email: `${username}@example.com`, groups: [] }
      : undefined;
  };

  const showSignIn = (url: URL, response: ServerResponse) => {
    const request = checkAuthorize(url.searchParams);
    if (typeof request === 'string') return sendPage(response, 400, errorPage(request));
    sendPage(response, 200, signInPage(request, options.users), new URL(request.redirectUri).origin);
  };

  const signIn = async (http: IncomingMessage, response: ServerResponse) => {
    const form = await readForm(http);
    if (!form) return sendPage(response, 400, errorPage('Expected a form.'));
    const request = checkAuthorize(form);
    if (typeof request === 'string') return sendPage(response, 400, errorPage(request));
    const user = userNamed(form.get('username'));
    if (!user) return sendPage(response, 400, errorPage('Usernames are letters, digits, ".", "_" and "-".'));
    const now = options.now();
    for (const [code, pending] of codes) if (pending.expiresAt <= now) codes.delete(code);
    const code = randomBytes(32).toString('base64url');
    codes.set(code, { ...request, user, expiresAt: now + CODE_LIFETIME_MS });
    const target = new URL(request.redirectUri);
    target.searchParams.set('code', code);
    if (request.state) target.searchParams.set('state', request.state);
    response.writeHead(302, { location: target.href, 'cache-control': 'no-store' }).end();
  };

  const exchangeCode = (form: URLSearchParams, clientId: string): Record<string, unknown> | OAuthError => {
    const code = form.get('code');
    const redirectUri = form.get('redirect_uri');
    const verifier = form.get('code_verifier');
    if (!code || !redirectUri || !verifier) return 'invalid_request';
    const pending = codes.get(code);
    // Spent by any attempt, right or wrong.
    codes.delete(code);
    if (
      !pending ||
      pending.expiresAt <= options.now() ||
      pending.clientId !== clientId ||
      pending.redirectUri !== redirectUri ||
      !CODE_VERIFIER.test(verifier) ||
      !sameText(createHash('sha256').update(verifier).digest('base64url'), pending.codeChallenge)
    ) {
      return 'invalid_grant';
    }
    const refreshToken = randomBytes(48).toString('base64url');
    const signedInAt = Math.floor(options.now() / 1000);
    refreshTokens.set(refreshToken, { clientId, user: pending.user, signedInAt });
    return {
      ...tokenBody(options.issueTokens(pending.user, clientId, signedInAt)),
      refresh_token: refreshToken,
    };
  };

  const refresh = (form: URLSearchParams, clientId: string): Record<string, unknown> | OAuthError => {
    const refreshToken = form.get('refresh_token');
    if (!refreshToken) return 'invalid_request';
    const session = refreshTokens.get(refreshToken);
    if (!session || session.clientId !== clientId) return 'invalid_grant';
    return tokenBody(options.issueTokens(session.user, clientId, session.signedInAt));
  };

  const grant = (form: URLSearchParams | undefined): Record<string, unknown> | OAuthError => {
    const grantType = form?.get('grant_type');
    if (!form || !grantType) return 'invalid_request';
    if (grantType !== 'authorization_code' && grantType !== 'refresh_token') return 'unsupported_grant_type';
    const clientId = form.get('client_id') ?? '';
    if (!options.clientIds.includes(clientId)) return 'invalid_client';
    return grantType === 'authorization_code' ? exchangeCode(form, clientId) : refresh(form, clientId);
  };

  /** RFC 7009, as Cognito's /oauth2/revoke: the refresh token no longer refreshes; an unknown one is no error. */
  const revoke = (form: URLSearchParams | undefined): Record<string, unknown> | OAuthError => {
    const refreshToken = form?.get('token');
    if (!form || !refreshToken) return 'invalid_request';
    const clientId = form.get('client_id') ?? '';
    if (!options.clientIds.includes(clientId)) return 'invalid_client';
    if (refreshTokens.get(refreshToken)?.clientId === clientId) refreshTokens.delete(refreshToken);
    return {};
  };

  /** A POST endpoint of forms that a page on another loopback port may call. */
  const formEndpoint = async (
    http: IncomingMessage,
    response: ServerResponse,
    answerOf: (form: URLSearchParams | undefined) => Record<string, unknown> | OAuthError,
  ) => {
    const cors = { ...corsHeaders(http.headers.origin), vary: 'origin' };
    if (http.method === 'OPTIONS') {
      const allowed = 'access-control-allow-origin' in cors ? PREFLIGHT_HEADERS : {};
      return void response.writeHead(204, { ...cors, ...allowed }).end();
    }
    if (http.method !== 'POST') {
      return void response.writeHead(405, { ...cors, allow: 'POST, OPTIONS' }).end();
    }
    const answer = answerOf(await readForm(http));
    const failed = typeof answer === 'string';
    const headers = { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store' };
    response.writeHead(failed ? 400 : 200, headers).end(JSON.stringify(failed ? { error: answer } : answer));
  };

  const logout = (url: URL, response: ServerResponse) => {
    const logoutUri = url.searchParams.get('logout_uri') ?? '';
    const clientId = url.searchParams.get('client_id') ?? '';
    if (!options.clientIds.includes(clientId)) return sendPage(response, 400, errorPage('Unknown client.'));
    if (!isLoopbackUrl(logoutUri)) return sendPage(response, 400, errorPage(`logout_uri ${LOOPBACK_ONLY}`));
    response.writeHead(302, { location: logoutUri, 'cache-control': 'no-store' }).end();
  };

  return async (http, response) => {
    const url = new URL(http.url ?? '/', 'http://127.0.0.1');
    const route = `${http.method} ${url.pathname}`;
    if (route === 'GET /oauth2/authorize') showSignIn(url, response);
    else if (route === 'POST /oauth2/authorize') await signIn(http, response);
    else if (url.pathname === '/oauth2/token') await formEndpoint(http, response, grant);
    else if (url.pathname === '/oauth2/revoke') await formEndpoint(http, response, revoke);
    else if (route === 'GET /logout') logout(url, response);
    else return false;
    return true;
  };
}

function tokenBody(tokens: SignedTokens): Record<string, unknown> {
  return {
    access_token: tokens.accessToken,
    id_token: tokens.idToken,
    expires_in: tokens.expiresIn,
    token_type: 'Bearer',
  };
}

/** An http:// URL on a loopback host, without credentials or fragment. */
export function isLoopbackUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  const bare = !url.username && !url.password && !url.hash;
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) && bare;
}

/** Lets a page on another loopback port call the token endpoint; any other origin gets no CORS header. */
function corsHeaders(origin: string | undefined): Record<string, string> {
  if (!origin || !isLoopbackUrl(origin) || new URL(origin).origin !== origin) return {};
  return { 'access-control-allow-origin': origin };
}

/** The body as form fields; undefined when it is not a form or is too large. */
async function readForm(request: IncomingMessage): Promise<URLSearchParams | undefined> {
  const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_FORM_BYTES) chunks.push(chunk);
  }
  if (type !== 'application/x-www-form-urlencoded' || size > MAX_FORM_BYTES) return undefined;
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendPage(response: ServerResponse, status: number, html: string, redirectOrigin?: string): void {
  response.writeHead(status, pageHeaders(redirectOrigin)).end(html);
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}
