import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ProblemException } from '../http/problem.js';
import { retryAfter } from '../http/retry-after.js';
import { ACCESS_POLICY, isAllowed, type AccessPolicy, type RequestWithPrincipal } from './access-policy.js';
import type { AuthenticatedUser } from './principal.js';
import { InvalidTokenError, SigningKeysUnavailableError, TokenVerifier } from './token-verifier.js';
import { UserProvisioning } from './user-provisioning.js';

/** Cognito access tokens are ~1 KB; anything much larger is not one. */
const MAX_TOKEN_LENGTH = 8 * 1024;
/** RFC 7235 allows one or more spaces after the scheme. */
const BEARER = /^Bearer +([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;

/**
 * The global guard, deny by default: a route must declare a policy (@Public, @SignedIn, @Roles, @Scopes), and every
 * other route needs `Authorization: Bearer <Cognito access token>` (never a query string or cookie).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tokens: TokenVerifier,
    private readonly users: UserProvisioning,
    @InjectPinoLogger(AuthGuard.name) private readonly logger: PinoLogger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const policy = this.reflector.getAllAndOverride<AccessPolicy | undefined>(ACCESS_POLICY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (policy?.kind === 'public') return true;

    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const principal = await this.authenticate(request);
    if (!policy || !isAllowed(policy, principal)) {
      throw new ProblemException(403, {
        detail: 'This caller is not allowed to use this endpoint.',
        headers: { 'www-authenticate': insufficientScope(policy) },
      });
    }
    request.principal =
      principal.kind === 'user'
        ? ({
            ...principal,
            kind: 'user',
            userId: await this.users.userIdFor(principal),
          } satisfies AuthenticatedUser)
        : principal;
    return true;
  }

  private async authenticate(request: RequestWithPrincipal) {
    const headers = request.raw.rawHeaders.filter(
      (_, index) => index % 2 === 0 && /^authorization$/i.test(_),
    );
    const header = request.headers.authorization ?? '';
    // RFC 6750 §3.1: a request without Bearer credentials gets a challenge without an error code.
    if (headers.length === 0 || (headers.length === 1 && !BEARER_SCHEME.test(header)))
      throw unauthorized('Authentication required: send Authorization: Bearer <access token>.');
    const match = headers.length === 1 && header.length <= MAX_TOKEN_LENGTH + 7 ? BEARER.exec(header) : null;
    if (!match) return this.reject('malformed or repeated Authorization header');
    try {
      return await this.tokens.verify(match[1]!);
    } catch (error) {
      if (error instanceof InvalidTokenError) return this.reject(error.reason);
      if (error instanceof SigningKeysUnavailableError) {
        this.logger.error({ err: error.cause }, 'cannot load the signing keys (JWKS)');
        throw new ProblemException(503, {
          detail: 'Tokens cannot be verified right now; retry later.',
          headers: retryAfter('signingKeysUnavailable'),
        });
      }
      throw error;
    }
  }

  private reject(reason: string): never {
    this.logger.info({ reason }, 'token rejected');
    throw unauthorized('The access token is invalid or expired.', 'Bearer error="invalid_token"');
  }
}

/** RFC 6750 §3.1: the token is valid but grants too little; machine clients learn which scope would do. */
function insufficientScope(policy: AccessPolicy | undefined): string {
  const scopes = policy && 'scopes' in policy ? policy.scopes : [];
  return scopes.length === 0
    ? 'Bearer error="insufficient_scope"'
    : `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"`;
}

function unauthorized(detail: string, challenge = 'Bearer'): ProblemException {
  return new ProblemException(401, { detail, headers: { 'www-authenticate': challenge } });
}
