import { Injectable } from '@nestjs/common';
import { Database, sql } from '../../database/database.js';
import type { IdempotencyKey } from './idempotency-key.entity.js';

export type KeyScope = Pick<IdempotencyKey, 'principal' | 'route' | 'key'>;
export type StoredResponse = Pick<IdempotencyKey, 'requestHash' | 'responseStatus' | 'responseBody'>;

@Injectable()
export class IdempotencyRepository {
  constructor(private readonly db: Database) {}

  /**
   * Takes a transaction-level advisory lock on `lockKey` (a 60-bit integer) without waiting; false when another
   * transaction holds it.
   */
  async tryLock(lockKey: bigint): Promise<boolean> {
    const row = await this.db.row<{ locked: boolean }>(
      sql`SELECT pg_try_advisory_xact_lock(${lockKey.toString()}::bigint) AS locked`,
    );
    return row!.locked;
  }

  find(scope: KeyScope): Promise<StoredResponse | undefined> {
    return this.db.row<StoredResponse>(sql`
      SELECT request_hash AS "requestHash", response_status AS "responseStatus", response_body AS "responseBody"
      FROM idempotency_keys
      WHERE principal = ${scope.principal} AND route = ${scope.route} AND key = ${scope.key} AND expires_at > now()`);
  }

  /** Stores the response (replacing an expired one under the same key), kept for `hours`. */
  async save(scope: KeyScope, response: StoredResponse, hours: number): Promise<void> {
    await this.db.affected(sql`
      INSERT INTO idempotency_keys (principal, route, key, request_hash, response_status, response_body, expires_at)
      VALUES (${scope.principal}, ${scope.route}, ${scope.key}, ${response.requestHash}, ${response.responseStatus},
              ${JSON.stringify(response.responseBody ?? null)}, now() + make_interval(hours => ${hours}))
      ON CONFLICT (principal, route, key) DO UPDATE SET
        request_hash = EXCLUDED.request_hash, response_status = EXCLUDED.response_status,
        response_body = EXCLUDED.response_body, created_at = now(), expires_at = EXCLUDED.expires_at`);
  }

  /** Deletes every key of a caller, with the responses stored under them. */
  async deletePrincipal(principal: string): Promise<void> {
    await this.db.affected(sql`DELETE FROM idempotency_keys WHERE principal = ${principal}`);
  }

  /** Changes the responses stored about a user (whose `subjectUserId` they are), whoever's keys they are under. */
  async rewriteAbout(userId: string, changes: Record<string, unknown>): Promise<void> {
    await this.db.affected(sql`
      UPDATE idempotency_keys SET response_body = (response_body::jsonb || ${JSON.stringify(changes)}::jsonb)::json
      WHERE response_body->>'subjectUserId' = ${userId}`);
  }

  /** Deletes expired keys; returns how many. */
  deleteExpired(): Promise<number> {
    return this.db.affected(sql`DELETE FROM idempotency_keys WHERE expires_at <= now()`);
  }
}
