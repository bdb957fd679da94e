import type { PenaltyBox } from 'aws-jwt-verify/jwk';
import { setTimeout as sleep } from 'node:timers/promises';

const MIN_FETCH_INTERVAL_MS = 1_000;

/**
 * Paces the JWKS fetches that tokens with a key id not yet known cause: at most one a second, and a token that comes
 * sooner waits for the next one (shared by every token waiting) instead of being refused. The library's own penalty
 * box refuses every unknown key id for 10 s after a fetch that did not find one, so a single forged token would turn
 * away the tokens of a key Cognito had just added.
 */
export class JwksFetchPacing implements PenaltyBox {
  private lastFetchAt = Number.NEGATIVE_INFINITY;
  private next?: Promise<void>;

  wait(): Promise<void> {
    const delay = this.lastFetchAt + MIN_FETCH_INTERVAL_MS - Date.now();
    if (delay <= 0 && !this.next) {
      this.lastFetchAt = Date.now();
      return Promise.resolve();
    }
    this.next ??= sleep(Math.max(delay, 0)).then(() => {
      this.lastFetchAt = Date.now();
      this.next = undefined;
    });
    return this.next;
  }

  registerFailedAttempt(): void {}

  registerSuccessfulAttempt(): void {}
}
