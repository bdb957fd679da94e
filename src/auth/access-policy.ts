import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedUser, Principal } from './principal.js';

/** Every route declares exactly one policy; a route without one is refused (deny by default). */
export type AccessPolicy =
  | { kind: 'public' }
  | { kind: 'user' }
  | { kind: 'roles'; roles: readonly string[] }
  | { kind: 'scopes'; scopes: readonly string[] }
  | { kind: 'rolesOrScopes'; roles: readonly string[]; scopes: readonly string[] };

export const ACCESS_POLICY = 'runway:accessPolicy';

/** No token needed. Keep this list short: it is the API's whole unauthenticated surface. */
export const Public = () => SetMetadata(ACCESS_POLICY, { kind: 'public' } satisfies AccessPolicy);
/** Any signed-in user (not machine clients). */
export const SignedIn = () => SetMetadata(ACCESS_POLICY, { kind: 'user' } satisfies AccessPolicy);
/** A signed-in user in at least one of these Cognito groups. */
export const Roles = (...roles: string[]) =>
  SetMetadata(ACCESS_POLICY, { kind: 'roles', roles } satisfies AccessPolicy);
/** A caller (machine client or user) whose token carries at least one of these OAuth scopes. */
export const Scopes = (...scopes: string[]) =>
  SetMetadata(ACCESS_POLICY, { kind: 'scopes', scopes } satisfies AccessPolicy);

/** A signed-in user in one of `roles`, or a caller whose token carries one of `scopes` (machine clients). */
export const RolesOrScopes = (allowed: { roles: string[]; scopes: string[] }) =>
  SetMetadata(ACCESS_POLICY, { kind: 'rolesOrScopes', ...allowed } satisfies AccessPolicy);

export type RequestWithPrincipal = FastifyRequest & { principal?: Principal | AuthenticatedUser };

/** The verified caller of this request (set by the auth guard). */
export const CurrentUser = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<RequestWithPrincipal>().principal,
);

export function isAllowed(policy: AccessPolicy, principal: Principal): boolean {
  switch (policy.kind) {
    case 'public':
      return true;
    case 'user':
      return principal.kind === 'user';
    case 'roles':
      return principal.kind === 'user' && policy.roles.some((role) => principal.groups.includes(role));
    case 'scopes':
      return policy.scopes.some((scope) => principal.scopes.includes(scope));
    case 'rolesOrScopes':
      return (
        isAllowed({ kind: 'roles', roles: policy.roles }, principal) ||
        isAllowed({ kind: 'scopes', scopes: policy.scopes }, principal)
      );
  }
}
