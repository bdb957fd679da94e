/**
 * A bounded, closed-loop write load: each worker creates projects one after another, alternating between the app
 * instances that are up, each with a unique name and Idempotency-Key, and retries a write with the same key and body
 * after a network error, a 503, a 409 "still in flight" or a 429 (honouring Retry-After, capped) until it is
 * acknowledged (201) or the load is abandoned. Every attempt is recorded, under an X-Request-Id of its own that the
 * app logs: whether an instance received an attempt is read from its log.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

/** An attempt still unanswered after this long is abandoned and counted as hung. */
export const HUNG_MS = 30_000;
/** Retry-After is honoured up to this (the app asks 5 s when its database is unavailable). */
const RETRY_AFTER_CAP_MS = 2_000;
/** The wait after a network error or an answer without Retry-After. */
const RETRY_MS = 200;

export interface Target {
  readonly name: string;
  readonly baseUrl: string;
  readonly up: boolean;
}

export interface Attempt {
  target: string;
  /** Its X-Request-Id: `<Idempotency-Key>.<attempt number>`. */
  requestId: string;
  startedAt: number;
  endedAt: number;
  status?: number;
  retryAfter?: string;
  problemJson?: boolean;
  /** The answer said `Connection: close`. */
  connectionClose?: boolean;
  /** Sent on a keep-alive connection an earlier attempt had used. */
  reusedSocket: boolean;
  /** The created project's id, on a 201. */
  projectId?: string;
  /** No answer: the error code (ECONNRESET, ECONNREFUSED…), `hung`, or `abandoned` when the load ended. */
  error?: string;
}

export interface Write {
  name: string;
  key: string;
  attempts: Attempt[];
  /** The 201 that acknowledged it. */
  acknowledged?: Attempt;
}

export interface LoadOptions {
  targets: readonly Target[];
  token: string;
  workers: number;
  /** Names are `<prefix>-w<worker>-<n>`. */
  namePrefix: string;
  /** Aborts everything at once (Ctrl-C). */
  signal: AbortSignal;
}

export class Load {
  readonly writes: Write[] = [];
  private stopping = false;
  private readonly abandon = new AbortController();
  private readonly agents = new Map<string, http.Agent>();
  private readonly workers: Promise<void>[] = [];
  private readonly onAbort = () => this.abandon.abort();

  constructor(private readonly options: LoadOptions) {
    options.signal.addEventListener('abort', this.onAbort, { once: true });
  }

  start(): void {
    for (let index = 0; index < this.options.workers; index++) this.workers.push(this.worker(index));
  }

  /** Starts no new write; lets the writes under way retry for up to `graceMs`, then abandons them. */
  async stop(graceMs: number): Promise<Write[]> {
    this.stopping = true;
    const deadline = setTimeout(() => this.abandon.abort(), graceMs);
    await Promise.all(this.workers);
    clearTimeout(deadline);
    this.options.signal.removeEventListener('abort', this.onAbort);
    for (const agent of this.agents.values()) agent.destroy();
    return this.writes;
  }

  private async worker(index: number): Promise<void> {
    let turn = index;
    for (let n = 1; !this.stopping && !this.abandon.signal.aborted; n++) {
      const write: Write = {
        name: `${this.options.namePrefix}-w${index}-${n}`,
        key: randomUUID(),
        attempts: [],
      };
      this.writes.push(write);
      while (!write.acknowledged) {
        const target = await this.nextTarget(turn++);
        if (!target) break;
        const attempt = await this.send(target, write);
        write.attempts.push(attempt);
        if (attempt.status === 201) write.acknowledged = attempt;
        const wait = retryDelay(attempt);
        if (wait === undefined) break;
        await sleep(wait, undefined, { signal: this.abandon.signal }).catch(() => undefined);
      }
    }
  }

  /** Alternates between the instances that are up; waits while none is. Undefined once abandoned. */
  private async nextTarget(turn: number): Promise<Target | undefined> {
    while (!this.abandon.signal.aborted) {
      const up = this.options.targets.filter((target) => target.up);
      if (up.length > 0) return up[turn % up.length];
      await sleep(100, undefined, { signal: this.abandon.signal }).catch(() => undefined);
    }
    return undefined;
  }

  /** One POST; always settles: with the answer, a network error, at HUNG_MS, or when the load is abandoned. */
  private send(target: Target, write: Write): Promise<Attempt> {
    const startedAt = Date.now();
    const requestId = `${write.key}.${write.attempts.length + 1}`;
    const abandon = this.abandon.signal;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (fields: Partial<Attempt>) => {
        if (settled) return;
        settled = true;
        clearTimeout(hung);
        abandon.removeEventListener('abort', abandoned);
        resolve({
          target: target.name,
          requestId,
          startedAt,
          endedAt: Date.now(),
          reusedSocket: request.reusedSocket,
          ...fields,
        });
      };
      const request = http.request(
        `${target.baseUrl}/v1/projects`,
        {
          method: 'POST',
          agent: this.agent(target),
          headers: {
            authorization: `Bearer ${this.options.token}`,
            'content-type': 'application/json',
            'idempotency-key': write.key,
            'x-request-id': requestId,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => settle({ error: errorCode(error) }));
          response.on('end', () => {
            const status = response.statusCode!;
            settle({
              status,
              retryAfter: response.headers['retry-after'],
              problemJson: response.headers['content-type']?.startsWith('application/problem+json'),
              connectionClose: response.headers.connection === 'close',
              ...(status === 201 && { projectId: projectIdOf(Buffer.concat(chunks)) }),
            });
          });
        },
      );
      request.on('error', (error) => settle({ error: errorCode(error) }));
      const giveUp = (error: string) => () => {
        settle({ error });
        request.destroy();
      };
      const hung = setTimeout(giveUp('hung'), HUNG_MS);
      const abandoned = giveUp('abandoned');
      if (abandon.aborted) abandoned();
      else abandon.addEventListener('abort', abandoned, { once: true });
      request.end(JSON.stringify({ name: write.name }));
    });
  }

  /** A keep-alive agent per instance, as a load balancer keeps its connections to a target. */
  private agent(target: Target): http.Agent {
    let agent = this.agents.get(target.name);
    if (!agent) {
      agent = new http.Agent({ keepAlive: true });
      this.agents.set(target.name, agent);
    }
    return agent;
  }
}

/** How long to wait before retrying, or undefined when the attempt settled the write (or cannot be retried). */
export function retryDelay(attempt: Attempt): number | undefined {
  if (attempt.error !== undefined) return attempt.error === 'abandoned' ? undefined : RETRY_MS;
  const retryable =
    attempt.status === 503 ||
    attempt.status === 429 ||
    // 409 with Retry-After: the same key is still in flight; without, a real conflict.
    (attempt.status === 409 && attempt.retryAfter !== undefined);
  if (!retryable) return undefined;
  const seconds = Number(attempt.retryAfter);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds * 1000, RETRY_AFTER_CAP_MS) : RETRY_MS;
}

function errorCode(error: Error): string {
  return (error as NodeJS.ErrnoException).code ?? error.message;
}

function projectIdOf(body: Buffer): string | undefined {
  try {
    return (JSON.parse(body.toString()) as { id?: string }).id;
  } catch {
    return undefined;
  }
}
