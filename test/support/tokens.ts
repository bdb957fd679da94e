import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import {
  accessTokenClaims,
  mintAccessToken,
  signJwt,
  type AccessTokenOptions,
} from '../../tools/dev/dev-issuer.js';

export const TEST_USER_POOL_ID = 'eu-west-1_RunwayTest';
export const TEST_CLIENT_ID = 'runway-test-client';
export const TEST_ISSUER = `https://cognito-idp.eu-west-1.amazonaws.com/${TEST_USER_POOL_ID}`;

/** Environment that points the app's verifier at the test issuer (see global-setup.ts). */
export function authEnv(): Record<string, string> {
  return {
    COGNITO_USER_POOL_ID: TEST_USER_POOL_ID,
    COGNITO_CLIENT_ID: TEST_CLIENT_ID,
    COGNITO_JWKS_URL: inject('jwksUrl'),
  };
}

const defaults = (options: AccessTokenOptions): AccessTokenOptions => ({
  clientId: TEST_CLIENT_ID,
  issuer: TEST_ISSUER,
  ...options,
});

/** A valid access token of the test issuer. */
export function token(options: AccessTokenOptions = {}): string {
  return mintAccessToken(inject('signingKey'), defaults(options));
}

export function claims(options: AccessTokenOptions = {}): Record<string, unknown> {
  return accessTokenClaims(defaults(options));
}

/** Signs arbitrary header/payload with the test issuer's key (for hostile tokens). */
export function sign(header: object, payload: object): string {
  return signJwt(header, payload, inject('signingKey').privateKeyPem);
}

export const kid = () => inject('signingKey').kid;

export interface TestCaller {
  readonly sub: string;
  readonly username: string;
  readonly token: string;
  readonly authorization: string;
}

/** A distinct user with a valid token (`groups: ['admin']` for an operator). */
export function user(options: Omit<AccessTokenOptions, 'sub'> = {}): TestCaller {
  const username = options.username ?? `user-${randomUUID().slice(0, 8)}`;
  const sub = randomUUID();
  const value = token({ ...options, username, sub });
  return { sub, username, token: value, authorization: `Bearer ${value}` };
}

/** A machine client (client credentials) with the given scope. */
export function machine(scope: string): { token: string; authorization: string } {
  const value = token({ scope });
  return { token: value, authorization: `Bearer ${value}` };
}

/** The same Cognito user after a new sign-in (a later `auth_time`): how a deleted user comes back, as a new user. */
export function signedInAgain(caller: TestCaller): TestCaller {
  const value = sign(
    { alg: 'RS256', typ: 'JWT', kid: kid() },
    {
      ...claims({ username: caller.username, sub: caller.sub }),
      auth_time: Math.floor(Date.now() / 1000) + 1,
    },
  );
  return { ...caller, token: value, authorization: `Bearer ${value}` };
}
