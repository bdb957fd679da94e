/**
 * The critical user journey, as a synthetic check: live, ready, me, then create, read, update and delete a project.
 * Plain `fetch` and nothing else, so the same module runs from the command line (tools/synthetics/cli.ts), in the
 * tests, and packaged as a CloudWatch Synthetics canary.
 */
export interface JourneyOptions {
  baseUrl: string;
  /** A Cognito access token for a (test) user. */
  token: string;
  /** Bound for each step. */
  timeoutMs?: number;
  /**
   * How long `ready` may answer 503 before the journey fails: a database that paused while idle (Aurora's
   * auto-pause, DB_IDLE_SLEEP_SECONDS) takes about 15 s to resume. 30 s by default.
   */
  readyWithinMs?: number;
}

export interface StepResult {
  name: string;
  ok: boolean;
  ms: number;
  detail?: string;
}

export interface JourneyResult {
  ok: boolean;
  steps: StepResult[];
  totalMs: number;
}

/** The journey's projects are named `synthetic-<Date.now()>-<random>`. */
const SYNTHETIC_PREFIX = 'synthetic-';
const JOURNEY_PROJECT = /^synthetic-(\d{13})-[a-z0-9]{1,6}$/;
/** A run lasts 2 minutes at most (the canary's timeout): a project of the journey older than this is left over. */
const LEFTOVER_AFTER_MS = 10 * 60_000;

export async function runJourney(options: JourneyOptions): Promise<JourneyResult> {
  const baseUrl = options.baseUrl.replace(/\/$/, '');
  const timeoutMs = options.timeoutMs ?? 10_000;
  const readyWithinMs = options.readyWithinMs ?? 30_000;
  const steps: StepResult[] = [];
  const started = performance.now();
  const auth = { authorization: `Bearer ${options.token}` };
  let project: { id: string; etag: string } | undefined;

  /** One request; `unavailableForMs`: answers of 503 are asked again (after their Retry-After) for that long. */
  const step = async (
    name: string,
    expected: number,
    path: string,
    init: RequestInit = {},
    unavailableForMs = 0,
  ) => {
    const begin = performance.now();
    try {
      let response = await fetch(baseUrl + path, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      while (response.status === 503 && performance.now() - begin < unavailableForMs) {
        const retryAfterMs = Number(response.headers.get('retry-after') ?? 1) * 1000 || 1000;
        const leftMs = unavailableForMs - (performance.now() - begin);
        await response.body?.cancel();
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, Math.min(retryAfterMs, 5_000, leftMs))),
        );
        response = await fetch(baseUrl + path, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      }
      const body = response.status === 204 ? undefined : await response.json().catch(() => undefined);
      const ok = response.status === expected;
      steps.push({
        name,
        ok,
        ms: Math.round(performance.now() - begin),
        ...(ok ? {} : { detail: `expected ${expected}, got ${response.status}` }),
      });
      return ok
        ? { body: body as Record<string, unknown>, etag: response.headers.get('etag') ?? '' }
        : undefined;
    } catch (error) {
      steps.push({
        name,
        ok: false,
        ms: Math.round(performance.now() - begin),
        detail: (error as Error).message,
      });
      return undefined;
    }
  };
  const jsonHeaders = { ...auth, 'content-type': 'application/json' };

  try {
    if (!(await step('live', 200, '/health/live'))) return finish();
    if (!(await step('ready', 200, '/health/ready', {}, readyWithinMs))) return finish();
    const me = await step('me', 200, '/v1/me', { headers: auth });
    if (!me) return finish();
    // Only as the canary's own user: a journey run with anyone else's token deletes none of their projects.
    if (Array.isArray(me.body.groups) && me.body.groups.includes('synthetic')) await removeLeftovers();
    const name = `${SYNTHETIC_PREFIX}${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const created = await step('create project', 201, '/v1/projects', {
      method: 'POST',
      headers: { ...jsonHeaders, 'idempotency-key': name },
      body: JSON.stringify({ name, description: 'synthetic check' }),
    });
    if (!created) return finish();
    project = { id: String(created.body.id), etag: created.etag };
    const read = await step('read project', 200, `/v1/projects/${project.id}`, { headers: auth });
    if (!read) return finish();
    const updated = await step('update project', 200, `/v1/projects/${project.id}`, {
      method: 'PATCH',
      headers: { ...jsonHeaders, 'if-match': read.etag },
      body: JSON.stringify({ status: 'archived' }),
    });
    if (!updated) return finish();
    const deleted = await step('delete project', 204, `/v1/projects/${project.id}`, {
      method: 'DELETE',
      headers: { ...auth, 'if-match': updated.etag },
    });
    if (deleted) project = undefined;
    return finish();
  } finally {
    // Clean up after a failure part-way, without hiding the failure.
    if (project) {
      await fetch(`${baseUrl}/v1/projects/${project.id}`, {
        method: 'DELETE',
        headers: auth,
        signal: AbortSignal.timeout(timeoutMs),
      }).catch(() => undefined);
    }
  }

  /**
   * Projects that earlier runs could not delete (a create that timed out after it committed, a run stopped
   * part-way): not a step, and nothing a run still under way may be using (the pipeline's journey and the canary
   * sign in as the same user).
   */
  async function removeLeftovers(): Promise<void> {
    const signal = AbortSignal.timeout(timeoutMs);
    const page = await fetch(`${baseUrl}/v1/projects?limit=100`, { headers: auth, signal })
      .then((response) =>
        response.ok ? (response.json() as Promise<{ items: { id: string; name: string }[] }>) : undefined,
      )
      .catch(() => undefined);
    for (const { id, name } of page?.items ?? []) {
      const createdAt = JOURNEY_PROJECT.exec(name)?.[1];
      if (createdAt === undefined || Date.now() - Number(createdAt) <= LEFTOVER_AFTER_MS) continue;
      await fetch(`${baseUrl}/v1/projects/${id}`, { method: 'DELETE', headers: auth, signal }).catch(
        () => undefined,
      );
    }
  }

  function finish(): JourneyResult {
    return {
      ok: steps.length === 7 && steps.every((s) => s.ok),
      steps,
      totalMs: Math.round(performance.now() - started),
    };
  }
}

/** One line: `synthetics: PASS 7/7 steps in 84 ms (live 2, ready 4, …)`. */
export function summarize(result: JourneyResult): string {
  const passed = result.steps.filter((s) => s.ok).length;
  const timings = result.steps
    .map((s) => `${s.name} ${s.ms}${s.ok ? '' : ` FAILED: ${s.detail}`}`)
    .join(', ');
  return `synthetics: ${result.ok ? 'PASS' : 'FAIL'} ${passed}/7 steps in ${result.totalMs} ms (${timings})`;
}
