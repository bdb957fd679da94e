import { setTimeout as sleep } from 'node:timers/promises';

/**
 * `copilot task run` waits for a one-off task to be running, looking every 6 s, and reports one that stopped before
 * it looked as failed, whatever its exit code. A task that may be done in a second (migrations with none pending, the
 * synthetic journey) is run with `--min-runtime-seconds 15` and stays up that long, exiting with its own code.
 */
export const MIN_RUNTIME_OPTION = { 'min-runtime-seconds': { type: 'string' } } as const;

/** The option's value in milliseconds (0 when absent); a value that is not a whole number of seconds throws. */
export function minRuntimeMs(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d{1,4}$/.test(value))
    throw new Error(`--min-runtime-seconds must be a whole number, not "${value}"`);
  return Number(value) * 1000;
}

/** Waits until `minimumMs` have passed since `startedAt` (performance.now()), or `signal` aborts. */
export async function lingerFrom(startedAt: number, minimumMs: number, signal?: AbortSignal): Promise<void> {
  const left = startedAt + minimumMs - performance.now();
  if (left > 0) await sleep(left, undefined, { signal }).catch(() => undefined);
}
