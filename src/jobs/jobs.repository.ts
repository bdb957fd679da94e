import { Injectable } from '@nestjs/common';
import { Database, sql } from '../database/database.js';

export interface QueueCounts {
  queue: string;
  state: 'created' | 'retry' | 'active' | 'completed' | 'cancelled' | 'failed';
  count: number;
}

export interface FailedJob {
  id: string;
  queue: string;
  failedAt: Date;
  retries: number;
  /** pg-boss stores what the handler threw: `{ name, message, stack }`. */
  output: { name?: string; message?: string; value?: string } | null;
}

/** Reads pg-boss's own tables (schema `pgboss`) for the operators' view; its internal queues are left out. */
@Injectable()
export class JobsRepository {
  constructor(private readonly db: Database) {}

  counts(): Promise<QueueCounts[]> {
    return this.db.rows<QueueCounts>(sql`
      SELECT name AS queue, state::text AS state, count(*)::int AS count
      FROM pgboss.job WHERE name NOT LIKE '\\_\\_pgboss%' GROUP BY name, state ORDER BY name, state`);
  }

  recentFailures(limit: number): Promise<FailedJob[]> {
    return this.db.rows<FailedJob>(sql`
      SELECT id::text, name AS queue, completed_on AS "failedAt", retry_count AS retries, output
      FROM pgboss.job WHERE state = 'failed' AND name NOT LIKE '\\_\\_pgboss%'
      ORDER BY completed_on DESC LIMIT ${limit}`);
  }
}
