/**
 * Looks at `done` every `everyMs` until it holds (true) or `timeoutMs` have passed (false); the first look that holds
 * ends it. The limits are generous: on a slow machine a test takes longer, it does not fail.
 */
export async function until(
  done: () => boolean | Promise<boolean>,
  { timeoutMs = 60_000, everyMs = 100 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; ;) {
    if (await done()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** What `check` returns once it returns something (as `until` looks); fails when it has not within `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  let value: T | undefined;
  if (await until(async () => (value = await check()) !== undefined, { timeoutMs })) return value!;
  throw new Error(`nothing within ${timeoutMs} ms`);
}
