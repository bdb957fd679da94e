import type { Principal } from './principal.js';

/**
 * Turns a signed-in user's token into the app's user id, creating the user on first sight. The users feature
 * provides it (see AuthModule.register), so that authentication knows no feature.
 */
export abstract class UserProvisioning {
  abstract userIdFor(principal: Principal): Promise<string>;
  /** Forgets what is remembered of this user (it was deleted, perhaps by another instance). */
  abstract forget(sub: string): void;
}
