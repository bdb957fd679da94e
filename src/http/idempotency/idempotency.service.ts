import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Transactions } from '../../database/transactions.js';
import { ProblemException } from '../problem.js';

/** Keys are kept at least this long (retries by clients and Step Functions happen within it). */
export const IDEMPOTENCY_TTL_HOURS = 24;
const PURGE_EVERY_MS = 15 * 60_000;

export interface IdempotencyScope {
  principal: string;
  route: string;
  key: string;
  body: unknown;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

interface StoredRow {
  request_hash: string;
  response_status: number;
  response_body: unknown;
}

export type IdempotentOutcome =
  { replayed: false; response: StoredResponse } | { replayed: true; response: StoredResponse };

/**
 * Runs a creating request at most once per (caller, route, key). In one transaction: an advisory lock on the key
 * (a concurrent duplicate gets 409 at once instead of waiting), a lookup of a stored response (replayed; another
 * body → 422), else the work itself and the stored response — so the key and the resource commit together, and a
 * failure (validation, conflict, crash) stores nothing.
 */
@Injectable()
export class IdempotencyService implements OnModuleInit, OnApplicationShutdown {
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly transactions: Transactions,
    private readonly dataSource: DataSource,
    @InjectPinoLogger(IdempotencyService.name) private readonly logger: PinoLogger,
  ) {}

  async run(scope: IdempotencyScope, work: () => Promise<StoredResponse>): Promise<IdempotentOutcome> {
    const requestHash = hashOf(scope.body);
    return this.transactions.run(async (manager) => {
      const lockKey = hashOf([scope.principal, scope.route, scope.key]).slice(0, 15);
      const [{ locked }] = await manager.query<[{ locked: boolean }]>(
        'SELECT pg_try_advisory_xact_lock(($1)::bigint) AS locked',
        [BigInt(`0x${lockKey}`).toString()],
      );
      if (!locked) {
        throw new ProblemException(409, {
          detail: 'A request with this Idempotency-Key is still being processed; retry later.',
          headers: { 'retry-after': '1' },
        });
      }
      const [stored] = await manager.query<StoredRow[]>(
        `SELECT request_hash, response_status, response_body FROM idempotency_keys
         WHERE principal = $1 AND route = $2 AND key = $3 AND expires_at > now()`,
        [scope.principal, scope.route, scope.key],
      );
      if (stored) {
        if (stored.request_hash !== requestHash) {
          throw new ProblemException(422, {
            detail: 'This Idempotency-Key was already used with a different request body.',
          });
        }
        return {
          replayed: true,
          response: {
            status: stored.response_status,
            body: stored.response_body,
          },
        };
      }
      const response = await work();
      await manager.query(
        `INSERT INTO idempotency_keys
           (principal, route, key, request_hash, response_status, response_body, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(hours => $7))
         ON CONFLICT (principal, route, key) DO UPDATE SET
           request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status,
           response_body = EXCLUDED.response_body,
           created_at = now(), expires_at = EXCLUDED.expires_at`,
        [
          scope.principal,
          scope.route,
          scope.key,
          requestHash,
          response.status,
          JSON.stringify(response.body ?? null),
          IDEMPOTENCY_TTL_HOURS,
        ],
      );
      return { replayed: false, response };
    });
  }

  /** Deletes expired keys; every instance may run it (the delete is idempotent). */
  async purgeExpired(): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      'DELETE FROM idempotency_keys WHERE expires_at <= now()',
    );
    return affected;
  }

  onModuleInit(): void {
    this.purgeTimer = setInterval(() => {
      if (!this.dataSource.isInitialized) return;
      this.purgeExpired().then(
        (purged) => purged > 0 && this.logger.info({ purged }, 'expired idempotency keys purged'),
        (error: unknown) => this.logger.warn({ err: error }, 'purging idempotency keys failed'),
      );
    }, PURGE_EVERY_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.purgeTimer);
  }
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
