import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Stops retrying (e.g. at shutdown). */
  signal: AbortSignal;
  maxDelayMs: number;
  /** Called on the first failure and every tenth, so an outage is visible without flooding the log. */
  onFailure(error: unknown, attempt: number): void;
}

/**
 * Calls `attempt` until it succeeds or `signal` aborts, waiting with exponential backoff in between: 250 ms doubling,
 * capped, with jitter (each wait between half and all of it), so that instances restarting together do not retry in
 * step. Resolves true on success, false when stopped.
 */
export async function retryWithBackoff(
  attempt: () => Promise<unknown>,
  options: RetryOptions,
): Promise<boolean> {
  for (let count = 1; !options.signal.aborted; count++) {
    try {
      await attempt();
      return true;
    } catch (error) {
      if (count === 1 || count % 10 === 0) options.onFailure(error, count);
      await sleep(backoffMs(count, options.maxDelayMs), undefined, {
        signal: options.signal,
      }).catch(() => undefined);
    }
  }
  return false;
}

/** The wait before retry `count` (1, 2, …): exponential from 250 ms, capped, with "equal" jitter. */
export function backoffMs(count: number, maxDelayMs: number): number {
  const ceiling = Math.min(250 * 2 ** count, maxDelayMs);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
