import { Injectable, OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { Database } from '../../database/database.js';
import { JobRunner } from '../../jobs/job-runner.js';
import { ProblemException } from '../problem.js';
import { retryAfter } from '../retry-after.js';
import { IdempotencyRepository, type KeyScope } from './idempotency.repository.js';

/** Keys are kept at least this long (retries by clients and Step Functions happen within it). */
export const IDEMPOTENCY_TTL_HOURS = 24;
export const PURGE_QUEUE = 'idempotency-keys.purge';

export interface IdempotencyScope extends KeyScope {
  body: unknown;
}

export interface Response {
  status: number;
  body: unknown;
}

export interface IdempotentOutcome {
  replayed: boolean;
  response: Response;
}

/**
 * Runs a creating request at most once per (caller, route, key). In one transaction: an advisory lock on the key
 * (a concurrent duplicate gets 409 at once instead of waiting), a lookup of a stored response (replayed; another
 * body → 422), else the work itself and the stored response — so the key and the resource commit together, and a
 * failure (validation, conflict, crash) stores nothing.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit {
  constructor(
    private readonly db: Database,
    private readonly keys: IdempotencyRepository,
    private readonly jobs: JobRunner,
  ) {}

  /** Expired keys are purged every 15 minutes, by one instance at a time. */
  onModuleInit(): void {
    this.jobs.define({
      queue: PURGE_QUEUE,
      cron: '*/15 * * * *',
      handle: async () => void (await this.purgeExpired()),
    });
  }

  async run(scope: IdempotencyScope, work: () => Promise<Response>): Promise<IdempotentOutcome> {
    const requestHash = hashOf(scope.body);
    return this.db.transaction(async () => {
      const lockKey = BigInt(`0x${hashOf([scope.principal, scope.route, scope.key]).slice(0, 15)}`);
      if (!(await this.keys.tryLock(lockKey))) {
        throw new ProblemException(409, {
          detail: 'A request with this Idempotency-Key is still being processed; retry later.',
          headers: retryAfter('requestInFlight'),
        });
      }
      const stored = await this.keys.find(scope);
      if (stored) {
        if (stored.requestHash !== requestHash) {
          throw new ProblemException(422, {
            detail: 'This Idempotency-Key was already used with a different request (another URL or body).',
          });
        }
        return { replayed: true, response: { status: stored.responseStatus, body: stored.responseBody } };
      }
      const response = await work();
      await this.keys.save(
        scope,
        { requestHash, responseStatus: response.status, responseBody: response.body },
        IDEMPOTENCY_TTL_HOURS,
      );
      return { replayed: false, response };
    });
  }

  /**
   * Forgets what a deleted user's requests stored (their responses hold the user's data), in the caller's transaction.
   * The responses stored for others about them (a task's `subjectUserId`) still replay, with `aboutThem` instead of
   * what they said of the user.
   */
  async forgetUser(userId: string, aboutThem: Record<string, unknown>): Promise<void> {
    await this.keys.deletePrincipal(principalKey({ userId }));
    await this.keys.rewriteAbout(userId, aboutThem);
  }

  /** Deletes expired keys (safe to run twice); returns how many. */
  purgeExpired(): Promise<number> {
    return this.keys.deleteExpired();
  }
}

/** Whose keys these are: a user by their row's id, a machine client by its `sub`. */
export function principalKey(caller: { userId: string } | { sub: string }): string {
  return 'userId' in caller ? `user:${caller.userId}` : `machine:${caller.sub}`;
}

/** SHA-256 of a canonical JSON form (object keys sorted), so key order does not change the hash. */
function hashOf(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(value) ?? null))
    .digest('hex');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
