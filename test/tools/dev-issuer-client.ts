import { CognitoJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  createSigningKey,
  DEV_CLIENT_ID,
  DEV_USER_POOL_ID,
  serveDevIssuer,
  type DevIssuerOptions,
  type LoopbackServer,
  type SigningKey,
} from '../../tools/dev/dev-issuer.js';

/** The back office's redirect URI under `npm run dev`. */
export const REDIRECT_URI = 'http://localhost:3000/admin/';

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** The query of a sign-in request as the back office sends it; `undefined` in `overrides` leaves a field out. */
export function authorizeQuery(
  challenge: string,
  overrides: Record<string, string | undefined> = {},
): string {
  const fields: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: DEV_CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    state: 'state-1',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
  const defined = Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return new URLSearchParams(defined).toString();
}

export interface TokenResponse {
  access_token: string;
  id_token: string;
  refresh_token?: string;
  expires_in: number;
  token_type: string;
}

export const tokensOf = async (response: Response) => (await response.json()) as TokenResponse;

export interface SignedIn {
  redirect: URL;
  code: string;
  pkce: Pkce;
}

/** A dev issuer (a fresh key) from beforeAll on, and the calls a client makes to it. */
export function useDevIssuer(options: DevIssuerOptions = {}) {
  const key: SigningKey = createSigningKey();
  let server: LoopbackServer | undefined;
  beforeAll(async () => {
    server = await serveDevIssuer(key, options);
  });
  afterAll(() => server?.close());

  const form = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${issuer.server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
      redirect: 'manual',
    });

  const issuer = {
    key,
    get server(): LoopbackServer {
      if (!server) throw new Error('the dev issuer starts in beforeAll');
      return server;
    },
    postAuthorize: (body: string) => form('/oauth2/authorize', body),
    /** Presses "Sign in as <username>" (or types it): the redirect back to the client, with its code. */
    async signIn(username: string): Promise<SignedIn> {
      const codePair = pkce();
      const response = await issuer.postAuthorize(
        `${authorizeQuery(codePair.challenge)}&${new URLSearchParams({ username }).toString()}`,
      );
      if (response.status !== 302) throw new Error(`sign-in answered ${response.status}`);
      const redirect = new URL(response.headers.get('location')!);
      return { redirect, code: redirect.searchParams.get('code')!, pkce: codePair };
    },
    token: (fields: Record<string, string | undefined>, headers: Record<string, string> = {}) => {
      const defined = Object.entries(fields).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      );
      return form('/oauth2/token', new URLSearchParams(defined).toString(), headers);
    },
    /** The back office's code exchange; `overrides` changes or (undefined) leaves out fields. */
    exchange: (
      signedIn: SignedIn,
      overrides: Record<string, string | undefined> = {},
      headers: Record<string, string> = {},
    ) =>
      issuer.token(
        {
          grant_type: 'authorization_code',
          client_id: DEV_CLIENT_ID,
          code: signedIn.code,
          redirect_uri: REDIRECT_URI,
          code_verifier: signedIn.pkce.verifier,
          ...overrides,
        },
        headers,
      ),
  };
  return issuer;
}

/** Verifies tokens of the dev pool as the API does (aws-jwt-verify), with the keys served at `jwksUrl`. */
export function cognitoVerifier(jwksUrl: string, tokenUse: 'access' | 'id') {
  // The library's own fetcher speaks https only.
  const fetcher = { fetch: async () => (await fetch(jwksUrl)).arrayBuffer() };
  return CognitoJwtVerifier.create(
    { userPoolId: DEV_USER_POOL_ID, tokenUse, clientId: DEV_CLIENT_ID },
    { jwksCache: new SimpleJwksCache({ fetcher }) },
  );
}

export async function expectOAuthError(response: Promise<Response>, error: string): Promise<void> {
  const answered = await response;
  expect([answered.status, await answered.json()]).toEqual([400, { error }]);
}
