/**
 * SIGTERM and SIGINT, listened for from the first line of each entry point: a signal during start-up or migrations is
 * remembered (the current migration finishes or rolls back, then the process stops) instead of killing the process
 * mid-way. Once the server listens, it drains on the same signal.
 */
const requested = new AbortController();

export const shutdownSignal: AbortSignal = requested.signal;

let listening = false;

export function listenForShutdownSignals(): void {
  if (listening) return;
  listening = true;
  for (const name of ['SIGTERM', 'SIGINT'] as const) {
    process.on(name, () => {
      if (!requested.signal.aborted) requested.abort(name);
    });
  }
}

/** The signal received, for messages: `SIGTERM`. */
export function receivedSignal(): string {
  return String(shutdownSignal.reason);
}

let fault: string | undefined;

/**
 * Stops the process as SIGTERM does (in-flight requests finish), but to exit 1: for a fault found only once it runs,
 * such as a setting the database refuses.
 */
export function stopOnFault(reason: string): void {
  fault ??= reason;
  if (!requested.signal.aborted) requested.abort(reason);
}

/** The fault the process stops for; undefined when it stops for a signal, or runs. */
export function stopFault(): string | undefined {
  return fault;
}
