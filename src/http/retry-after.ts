/** How long a client should wait before retrying, by the reason it was turned away (seconds). */
export const RETRY_AFTER_SECONDS = {
  /** The database is unreachable or a statement timed out. */
  databaseUnavailable: 5,
  /** Readiness: a dependency is not ready, or the process is shutting down. */
  notReady: 5,
  /** Token signing keys cannot be loaded. */
  signingKeysUnavailable: 5,
  /** The same Idempotency-Key is still being processed. */
  requestInFlight: 1,
  /** The caller's user row is being created or deleted concurrently. */
  userChanging: 1,
  /** Concurrent transactions kept getting in each other's way (deadlocks), after the app's own retries. */
  concurrentChange: 1,
} as const;

export type RetryReason = keyof typeof RETRY_AFTER_SECONDS;

/** The `Retry-After` header for a reason, to pass as a problem's headers. */
export function retryAfter(reason: RetryReason): { 'retry-after': string } {
  return { 'retry-after': String(RETRY_AFTER_SECONDS[reason]) };
}
