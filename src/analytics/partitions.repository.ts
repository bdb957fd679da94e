import { Injectable } from '@nestjs/common';
import { Database, raw, sql } from '../database/database.js';

/** A month of events: `analytics_events_p2026_11` holds the instants from 2026-11-01 00:00 UTC to 2026-12-01. */
export interface Month {
  name: string;
  from: Date;
  to: Date;
}

const MONTH_NAME = /^analytics_events_p(\d{4})_(\d{2})$/;
const MAINTENANCE_KEYS = sql`${0x616e61}, 0`;
/**
 * How long a partition change waits for the table's lock. Every statement on analytics_events queues behind a change
 * that waits (a signed-in user's first request of the day among them), so it gives up soon and is tried again: the
 * transaction at once, the job later, the next hour's job in any case.
 */
const LOCK_TIMEOUT = '100ms';

export function monthStarting(year: number, monthIndex: number): Month {
  const from = new Date(Date.UTC(year, monthIndex, 1));
  const to = new Date(Date.UTC(year, monthIndex + 1, 1));
  const name = `analytics_events_p${from.getUTCFullYear()}_${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
  return { name, from, to };
}

/** The monthly partitions of `analytics_events`: listed, created ahead of time, dropped when old. */
@Injectable()
export class PartitionsRepository {
  constructor(private readonly db: Database) {}

  /** One maintenance at a time, whatever the number of instances; held until the transaction ends. */
  async lock(): Promise<void> {
    await this.db.rows(sql`SELECT pg_advisory_xact_lock(${MAINTENANCE_KEYS})`);
  }

  /**
   * Waits for a maintenance under way, and keeps the next one off until the transaction ends: a statement planned
   * before a month's partition is attached does not see it, nor the rows moved into it from the default partition.
   */
  async holdOff(): Promise<void> {
    await this.db.rows(sql`SELECT pg_advisory_xact_lock_shared(${MAINTENANCE_KEYS})`);
  }

  async months(): Promise<Month[]> {
    const rows = await this.db.rows<{ name: string }>(sql`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'analytics_events'::regclass`);
    return rows.flatMap(({ name }) => {
      const match = MONTH_NAME.exec(name);
      return match ? [monthStarting(Number(match[1]), Number(match[2]) - 1)] : [];
    });
  }

  /**
   * Adds the month's partition, moving into it any of its events that went to the default partition while it was
   * missing (PostgreSQL refuses a new partition whose rows sit in the default one).
   */
  async create(month: Month): Promise<void> {
    const table = raw(`"${month.name}"`);
    await this.db.rows(sql`SELECT set_config('lock_timeout', ${LOCK_TIMEOUT}, true)`);
    // Nothing enters the default partition between moving its rows out and attaching the new month. The lock ATTACH
    // needs, taken first: with a weaker one, an insert that has read the partition waits for this transaction, which
    // waits for it at ATTACH, and under steady traffic the month is never created.
    await this.db.rows(sql`LOCK TABLE analytics_events_default IN ACCESS EXCLUSIVE MODE`);
    await this.db.rows(sql`CREATE TABLE ${table} (LIKE analytics_events INCLUDING DEFAULTS)`);
    await this.db.rows(sql`
      WITH moved AS (
        DELETE FROM analytics_events_default WHERE occurred_at >= ${month.from} AND occurred_at < ${month.to}
        RETURNING *
      )
      INSERT INTO ${table} SELECT * FROM moved`);
    await this.db.rows(sql`
      ALTER TABLE analytics_events ATTACH PARTITION ${table}
      FOR VALUES FROM (${raw(`'${month.from.toISOString()}'`)}) TO (${raw(`'${month.to.toISOString()}'`)})`);
  }

  async drop(month: Month): Promise<void> {
    await this.db.rows(sql`SELECT set_config('lock_timeout', ${LOCK_TIMEOUT}, true)`);
    await this.db.rows(sql`DROP TABLE IF EXISTS ${raw(`"${month.name}"`)}`);
  }

  /** Events before `cutoff` that went to the default partition. */
  deleteDefaultBefore(cutoff: Date): Promise<number> {
    return this.db.affected(sql`DELETE FROM analytics_events_default WHERE occurred_at < ${cutoff}`);
  }
}
