/** Who is calling: a signed-in user, or a machine client (OAuth client credentials, authorized by scopes). */
export interface Principal {
  readonly kind: 'user' | 'machine';
  /** Cognito `sub` (for machine clients, the client id). */
  readonly sub: string;
  readonly clientId: string;
  readonly username?: string;
  readonly email?: string;
  /** From `cognito:groups`; `admin` is the back-office role. */
  readonly groups: readonly string[];
  readonly scopes: readonly string[];
  /** Token expiry, seconds since the epoch. */
  readonly expiresAt: number;
  /** When the user signed in (`auth_time`, seconds since the epoch; tokens refreshed since keep it); 0 if unknown. */
  readonly signedInAt: number;
  /** When this token was issued (`iat`, seconds since the epoch; a refresh issues a new one); 0 if unknown. */
  readonly issuedAt: number;
}

/** A signed-in user after just-in-time provisioning: `userId` is the id of their `users` row. */
export interface AuthenticatedUser extends Principal {
  readonly kind: 'user';
  readonly userId: string;
}

export const ADMIN_ROLE = 'admin';
/**
 * The synthetic journey's user (the canary): served like any other, but what it does is not usage. Analytics and
 * business metrics leave it out, or a canary every 5 minutes would be 288 projects a day and a user active daily.
 */
export const SYNTHETIC_ROLE = 'synthetic';

export function isSynthetic(principal: Pick<Principal, 'groups'>): boolean {
  return principal.groups.includes(SYNTHETIC_ROLE);
}
