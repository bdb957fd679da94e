import { Inject, Injectable } from '@nestjs/common';
import { CognitoJwtVerifier, JwtVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import {
  FetchError,
  JwksValidationError,
  JwtBaseError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import { assertIsJwks, isJwks, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import type { JwtPayload } from 'aws-jwt-verify/jwt-model';
import type { Json } from 'aws-jwt-verify/safe-json-parse';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import { APP_CONFIG, type AppConfig, type AuthConfig } from '../config/config.js';
import { JwksFetchPacing } from './jwks-pacing.js';
import type { Principal } from './principal.js';

/** The token is not acceptable. `reason` is for the log, never for the response. */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/** Signing keys could not be loaded and none are cached: the caller should retry (503), not re-authenticate. */
export class SigningKeysUnavailableError extends Error {}

const JWKS_TIMEOUT_MS = 3_000;
const CACHE_MAX_ENTRIES = 10_000;

interface VerifiedToken {
  principal: Principal;
  /** `nbf`, seconds since the epoch. */
  notBefore?: number;
  /** The signing key it was verified with: when the key leaves the JWKS, so does the token. */
  kid: string;
}

/**
 * Verifies Cognito access tokens with aws-jwt-verify and remembers the ones it verified, keyed by a SHA-256 of the
 * whole token, until they expire, their signing key leaves the JWKS, or they are evicted (bounded, least recently
 * used first).
 */
@Injectable()
export class TokenVerifier {
  private readonly verifier: ReturnType<typeof createVerifier>;
  private readonly fetcher: JwksFetcher;
  private readonly verified = new LRUCache<string, VerifiedToken>({ max: CACHE_MAX_ENTRIES });
  private keysLoaded = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.fetcher = new JwksFetcher(config.auth.jwksUrl, (kids) => this.forgetKeysOtherThan(kids));
    this.verifier = createVerifier(config.auth, this.fetcher);
  }

  get ready(): boolean {
    return this.keysLoaded;
  }

  /** Loads the signing keys; readiness stays 503 until this has succeeded once. */
  async hydrate(): Promise<void> {
    await this.verifier.hydrate();
    this.keysLoaded = true;
  }

  /**
   * Fetches the JWKS again (keys rotate): a key no longer in it verifies nothing from now on, not even the tokens
   * it verified before. The library fetches on its own only when a token names a key it does not know.
   */
  async refreshKeys(): Promise<void> {
    const jwks = JSON.parse(Buffer.from(await this.fetcher.fetch()).toString('utf8')) as Json;
    // A 200 with another JSON body (an error object) would replace the keys with nothing the library can read.
    assertIsJwks(jwks);
    this.verifier.cacheJwks(jwks);
    this.keysLoaded = true;
  }

  async verify(token: string): Promise<Principal> {
    const key = createHash('sha256').update(token).digest('base64url');
    const cached = this.verified.get(key);
    if (cached && (cached.notBefore === undefined || cached.notBefore <= Date.now() / 1000)) {
      return cached.principal;
    }
    const payload = await this.verifyWithLibrary(token);
    const principal = toPrincipal(payload);
    // Kept no longer than the token is valid.
    const ttl = principal.expiresAt * 1000 - Date.now();
    if (ttl > 0) {
      this.verified.set(
        key,
        {
          principal,
          notBefore: typeof payload.nbf === 'number' ? payload.nbf : undefined,
          kid: kidOf(token),
        },
        { ttl },
      );
    }
    return principal;
  }

  private forgetKeysOtherThan(kids: Set<string>): void {
    for (const [key, { kid }] of this.verified.entries()) if (!kids.has(kid)) this.verified.delete(key);
  }

  private async verifyWithLibrary(token: string): Promise<JwtPayload> {
    try {
      const payload = await this.verifier.verify(token);
      this.keysLoaded = true;
      return payload;
    } catch (error) {
      // This token's fetch of the keys failed; or none may be made yet, before any key is known or while the last
      // fetch failed. A token of a key not known yet (one Cognito has just rotated to) may be genuine, and its caller
      // should retry rather than sign in again.
      const fetchFailed = error instanceof FetchError || error instanceof JwksValidationError;
      const waiting = error instanceof WaitPeriodNotYetEndedJwkError;
      if (fetchFailed || (waiting && (!this.keysLoaded || this.fetcher.failing)))
        throw new SigningKeysUnavailableError('signing keys unavailable', { cause: error });
      if (error instanceof JwtBaseError) throw new InvalidTokenError(`${error.name}: ${error.message}`);
      throw error;
    }
  }
}

function createVerifier(auth: AuthConfig, fetcher: JwksFetcher) {
  const jwksCache = new SimpleJwksCache({ fetcher, penaltyBox: new JwksFetchPacing() });
  const customJwtCheck = ({ payload }: { payload: JwtPayload }) => requireStandardClaims(payload);
  if (!auth.customIssuer) {
    return CognitoJwtVerifier.create(
      { userPoolId: auth.userPoolId, tokenUse: 'access', clientId: [...auth.clientIds], customJwtCheck },
      { jwksCache },
    );
  }
  // An emulator whose issuer is not Cognito's (cognito-local): same Cognito claim checks, explicit issuer.
  return JwtVerifier.create(
    {
      issuer: auth.issuer,
      audience: null,
      jwksUri: auth.jwksUrl,
      customJwtCheck: ({ payload }) => {
        validateCognitoJwtFields(payload, { tokenUse: 'access', clientId: [...auth.clientIds] });
        requireStandardClaims(payload);
      },
    },
    { jwksCache },
  );
}

/** aws-jwt-verify accepts a signed token without `exp` or `sub`; Runway does not. */
function requireStandardClaims(payload: JwtPayload): void {
  if (typeof payload.exp !== 'number') throw new InvalidTokenError('token has no exp');
  if (typeof payload.sub !== 'string' || payload.sub === '') throw new InvalidTokenError('token has no sub');
}

/** The `kid` of a token's header (already verified: it parses). */
function kidOf(token: string): string {
  const header = JSON.parse(
    Buffer.from(token.slice(0, token.indexOf('.')), 'base64url').toString('utf8'),
  ) as {
    kid?: unknown;
  };
  return String(header.kid);
}

function toPrincipal(payload: JwtPayload): Principal {
  const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined);
  const groups = payload['cognito:groups'];
  const username = text(payload.username);
  return {
    kind: username ? 'user' : 'machine',
    sub: payload.sub!,
    clientId: text(payload.client_id) ?? '',
    username,
    email: text(payload.email),
    groups: Array.isArray(groups) ? groups.filter((group): group is string => typeof group === 'string') : [],
    scopes: text(payload.scope)?.split(' ').filter(Boolean) ?? [],
    expiresAt: payload.exp!,
    signedInAt: typeof payload.auth_time === 'number' ? payload.auth_time : 0,
    issuedAt: typeof payload.iat === 'number' ? payload.iat : 0,
  };
}

/**
 * Fetches the JWKS from the configured URL (Cognito's, or an emulator's on loopback, which may be plain http:
 * aws-jwt-verify's own fetcher speaks https only). Bounded by a timeout.
 */
class JwksFetcher {
  /** Whether the last fetch failed (unreachable, an error status, or a body that is not a JWKS). */
  failing = false;

  constructor(
    private readonly jwksUrl: string,
    /** Told the key ids of every JWKS fetched. */
    private readonly onKeys: (kids: Set<string>) => void,
  ) {}

  async fetch(): Promise<ArrayBuffer> {
    this.failing = true; // until a JWKS has arrived
    let response: Response;
    try {
      response = await fetch(this.jwksUrl, {
        signal: AbortSignal.timeout(JWKS_TIMEOUT_MS),
        redirect: 'error',
      });
    } catch (error) {
      throw new FetchError(this.jwksUrl, (error as Error).message);
    }
    if (!response.ok) throw new FetchError(this.jwksUrl, `status ${response.status}`);
    const body = await response.arrayBuffer();
    try {
      const jwks = JSON.parse(Buffer.from(body).toString('utf8')) as Json;
      if (isJwks(jwks)) {
        this.onKeys(new Set(jwks.keys.map(({ kid }) => String(kid))));
        this.failing = false;
      }
    } catch {
      // Not JSON: the library rejects it with its own error.
    }
    return body;
  }
}
