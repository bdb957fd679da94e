import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEV_CLIENT_ID, DEV_USERS, devUserSub } from '../../tools/dev/dev-issuer.js';
import { CODE_LIFETIME_MS } from '../../tools/dev/dev-sign-in.js';
import {
  authorizeQuery,
  pkce,
  REDIRECT_URI,
  tokensOf,
  useDevIssuer,
  cognitoVerifier,
  expectOAuthError as expectError,
  type Pkce,
} from './dev-issuer-client.js';

const OTHER_CLIENT_ID = 'runway-other-client';

/** The dev issuer on loopback, with real RS256 tokens checked as the API checks them. */
describe('dev issuer', () => {
  const clock = { now: Date.now() };
  const issuer = useDevIssuer({ clientIds: [DEV_CLIENT_ID, OTHER_CLIENT_ID], now: () => clock.now });
  const verifier = (tokenUse: 'access' | 'id') => cognitoVerifier(issuer.server.jwksUrl, tokenUse);

  it('serves the JWKS at its usual path', async () => {
    const response = await fetch(issuer.server.jwksUrl);
    expect(issuer.server.jwksUrl).toBe(`${issuer.server.url}/.well-known/jwks.json`);
    expect(issuer.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await response.json()).toEqual(issuer.key.jwks);
  });

  it('shows a sign-in page listing the dev users, with a strict CSP that allows its one style', async () => {
    const { challenge } = pkce();
    const response = await fetch(`${issuer.server.url}/oauth2/authorize?${authorizeQuery(challenge)}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    for (const { username } of DEV_USERS) expect(html).toContain(`>Sign in as ${username}</button>`);
    expect(html).toContain(`name="code_challenge" value="${challenge}"`);
    expect(html).toContain('name="state" value="state-1"');
    expect(html).not.toMatch(/<script|style="/);
    const csp = response.headers.get('content-security-policy')!;
    const style = html.match(/<style>(.*?)<\/style>/s)![1]!;
    expect(csp).toBe(
      `default-src 'none'; style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'; ` +
        `form-action 'self' http://localhost:3000; frame-ancestors 'none'; base-uri 'none'`,
    );
  });

  it.each([
    ['an unknown client', { client_id: 'nobody' }],
    ['a redirect_uri off loopback', { redirect_uri: 'https://evil.example/admin/' }],
    ['an https redirect_uri', { redirect_uri: 'https://localhost:3000/admin/' }],
    ['a look-alike host', { redirect_uri: 'http://localhost.evil.example/admin/' }],
    ['no PKCE', { code_challenge: undefined, code_challenge_method: undefined }],
    ['plain PKCE', { code_challenge_method: 'plain' }],
    ['a malformed challenge', { code_challenge: 'short' }],
    ['the implicit flow', { response_type: 'token' }],
  ])('refuses %s with an error page, never a redirect', async (_, overrides) => {
    const query = authorizeQuery(pkce().challenge, overrides);
    const page = await fetch(`${issuer.server.url}/oauth2/authorize?${query}`, { redirect: 'manual' });
    const post = await issuer.postAuthorize(`${query}&username=admin`);
    for (const response of [page, post]) {
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    }
  });

  it('exchanges a code and its PKCE verifier for tokens that verify as Cognito tokens do', async () => {
    const signedIn = await issuer.signIn('admin');
    expect(signedIn.redirect.origin + signedIn.redirect.pathname).toBe(REDIRECT_URI);
    expect(signedIn.redirect.searchParams.get('state')).toBe('state-1');

    const response = await issuer.exchange(signedIn);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const tokens = await tokensOf(response);
    expect(tokens).toEqual({
      access_token: expect.any(String),
      id_token: expect.any(String),
      refresh_token: expect.any(String),
      expires_in: 3600,
      token_type: 'Bearer',
    });
    const access = await verifier('access').verify(tokens.access_token);
    expect(access).toMatchObject({
      sub: devUserSub('admin'),
      username: 'admin',
      'cognito:groups': ['admin'],
      client_id: DEV_CLIENT_ID,
      scope: 'openid email profile',
      token_use: 'access',
      // As production's pre-token-generation trigger adds it.
      email: 'admin@example.com',
    });
    const id = await verifier('id').verify(tokens.id_token);
    expect(id).toMatchObject({
      sub: devUserSub('admin'),
      aud: DEV_CLIENT_ID,
      'cognito:username': 'admin',
      email: 'admin@example.com',
      'cognito:groups': ['admin'],
      token_use: 'id',
    });
  });

  it('gives the same sub at every sign-in, no group to alice or to any other username', async () => {
    const subOf = async (username: string) => {
      const tokens = await tokensOf(await issuer.exchange(await issuer.signIn(username)));
      return verifier('access').verify(tokens.access_token);
    };
    const [alice, again, bob] = [await subOf('alice'), await subOf('alice'), await subOf('Bob')];
    expect(again.sub).toBe(alice.sub);
    expect(alice).toMatchObject({ sub: devUserSub('alice'), username: 'alice' });
    expect(alice['cognito:groups']).toBeUndefined();
    expect(bob).toMatchObject({ sub: devUserSub('bob'), username: 'bob' });
    expect(bob['cognito:groups']).toBeUndefined();
    expect((await issuer.postAuthorize(`${authorizeQuery(pkce().challenge)}&username=a%20b`)).status).toBe(
      400,
    );
  });

  it('refuses a wrong verifier, and the code is spent by that attempt', async () => {
    const signedIn = await issuer.signIn('admin');
    const wrong: Pkce = { ...signedIn.pkce, verifier: pkce().verifier };
    await expectError(issuer.exchange({ ...signedIn, pkce: wrong }), 'invalid_grant');
    await expectError(issuer.exchange(signedIn), 'invalid_grant');
  });

  it('refuses a code used twice', async () => {
    const signedIn = await issuer.signIn('admin');
    expect((await issuer.exchange(signedIn)).status).toBe(200);
    await expectError(issuer.exchange(signedIn), 'invalid_grant');
  });

  it('refuses a code past its five minutes', async () => {
    const signedIn = await issuer.signIn('admin');
    clock.now += CODE_LIFETIME_MS;
    try {
      await expectError(issuer.exchange(signedIn), 'invalid_grant');
    } finally {
      clock.now = Date.now();
    }
  });

  it('refuses a code redeemed for another redirect_uri or another client', async () => {
    const first = await issuer.signIn('admin');
    await expectError(
      issuer.exchange(first, { redirect_uri: 'http://localhost:4000/admin/' }),
      'invalid_grant',
    );
    const second = await issuer.signIn('admin');
    await expectError(issuer.exchange(second, { client_id: OTHER_CLIENT_ID }), 'invalid_grant');
  });

  it('answers malformed token requests with OAuth errors', async () => {
    const signedIn = await issuer.signIn('admin');
    await expectError(issuer.exchange(signedIn, { client_id: 'nobody' }), 'invalid_client');
    await expectError(issuer.exchange(signedIn, { code_verifier: undefined }), 'invalid_request');
    await expectError(issuer.token({ grant_type: 'client_credentials' }), 'unsupported_grant_type');
    await expectError(issuer.token({}), 'invalid_request');
    const json = await fetch(`${issuer.server.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'refresh_token' }),
    });
    expect([json.status, await json.json()]).toEqual([400, { error: 'invalid_request' }]);
  });

  it("refreshes: a new working access token and ID token, no new refresh token, the sign-in's auth_time kept", async () => {
    const first = await tokensOf(await issuer.exchange(await issuer.signIn('admin')));
    const signedIn = await verifier('access').verify(first.access_token);
    // In a later second than the sign-in, so that a new auth_time would show.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const refresh = {
      grant_type: 'refresh_token',
      client_id: DEV_CLIENT_ID,
      refresh_token: first.refresh_token,
    };
    const response = await issuer.token(refresh);
    expect(response.status).toBe(200);
    const renewed = await tokensOf(response);
    expect(Object.keys(renewed).sort()).toEqual(['access_token', 'expires_in', 'id_token', 'token_type']);
    expect(renewed.access_token).not.toBe(first.access_token);
    const access = await verifier('access').verify(renewed.access_token);
    expect(access).toMatchObject({ sub: devUserSub('admin'), 'cognito:groups': ['admin'] });
    expect(access.auth_time).toBe(signedIn.auth_time);
    expect(access.iat).toBeGreaterThan(signedIn.auth_time);
    expect((await verifier('id').verify(renewed.id_token)).auth_time).toBe(signedIn.auth_time);

    await expectError(issuer.token({ ...refresh, client_id: OTHER_CLIENT_ID }), 'invalid_grant');
    await expectError(issuer.token({ ...refresh, refresh_token: 'forged' }), 'invalid_grant');
  });

  it('lets pages on loopback origins call the token endpoint, and no other origin', async () => {
    const preflight = (origin: string) =>
      fetch(`${issuer.server.url}/oauth2/token`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000']) {
      const allowed = await preflight(origin);
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(origin);
      expect(allowed.headers.get('access-control-allow-methods')).toBe('POST');
      expect(allowed.headers.get('access-control-allow-headers')).toBe('content-type');
      const answered = await issuer.exchange(await issuer.signIn('alice'), {}, { origin });
      expect(answered.status).toBe(200);
      expect(answered.headers.get('access-control-allow-origin')).toBe(origin);
    }
    for (const origin of [
      'https://evil.example',
      'http://localhost.evil.example',
      'https://localhost:3000',
    ]) {
      expect((await preflight(origin)).headers.get('access-control-allow-origin')).toBeNull();
      const answered = await issuer.token({ grant_type: 'refresh_token' }, { origin });
      expect(answered.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('logs out to a loopback logout_uri only', async () => {
    const logout = (client: string, uri: string) => {
      const query = new URLSearchParams({ client_id: client, logout_uri: uri }).toString();
      return fetch(`${issuer.server.url}/logout?${query}`, { redirect: 'manual' });
    };
    const out = await logout(DEV_CLIENT_ID, REDIRECT_URI);
    expect([out.status, out.headers.get('location')]).toEqual([302, REDIRECT_URI]);
    const refused = [
      await logout(DEV_CLIENT_ID, 'https://evil.example/'),
      await logout('nobody', REDIRECT_URI),
    ];
    for (const response of refused)
      expect([response.status, response.headers.get('location')]).toEqual([400, null]);
  });
});

describe('dev issuer without options', () => {
  const issuer = useDevIssuer();

  it('accepts DEV_CLIENT_ID only', async () => {
    const status = async (clientId: string) => {
      const query = authorizeQuery(pkce().challenge, { client_id: clientId });
      return (await fetch(`${issuer.server.url}/oauth2/authorize?${query}`)).status;
    };
    expect([await status(DEV_CLIENT_ID), await status(OTHER_CLIENT_ID)]).toEqual([200, 400]);
  });
});
