import { Injectable } from '@nestjs/common';
import { Database, prepared, sql } from '../database/database.js';
import {
  addToEventDays,
  addToNameDays,
  addToSummary,
  nameDayChanges,
  windows,
} from './rollups.repository.js';

/** An event as stored: `occurredAt` an ISO 8601 instant; `id` the client's, for recognising retries. */
export interface EventRow {
  id: string | null;
  name: string;
  occurredAt: string;
  properties: object | null;
}

/** What {@link ActivityRepository.record} writes for one user: events, and moments the user was active at. */
export interface ActivityWrite {
  userId: string;
  events: EventRow[];
  activeAt: Date[];
}

/** What {@link ActivityRepository.record} did for one user: events stored, and the days of its `activeAt`. */
export interface Recorded {
  stored: number;
  activeDays: string[];
}

/** Two-key advisory locks of analytics: (this class, a hash of the user id). */
const USER_LOCK_CLASS = 0x616e61;

/**
 * What users did: raw events and the rollups the queries read (active days, first days, the daily DAU/WAU/MAU
 * summary, events per user, name and day, per name and day, and users per name and day), kept exact as events are
 * added and users erased. Every write for a user runs under that user's lock, so two writes never count the same
 * newly active day twice.
 */
@Injectable()
export class ActivityRepository {
  constructor(private readonly db: Database) {}

  /**
   * Serialises the writes of these users until the transaction ends. Each user's row is locked before their lock, as
   * deleting a user locks the row first too, and users in id order, as by every writer: no two transactions then wait
   * for each other in opposite orders (a deadlock).
   */
  async lockUsers(userIds: string[]): Promise<void> {
    // One round trip: each row is locked as the subquery yields it, before the outer query takes its advisory lock.
    // No row, no lock: the write that follows then finds no user and stores nothing for them.
    await this.db.rows(sql`
      SELECT pg_advisory_xact_lock(${USER_LOCK_CLASS}, hashtext(id::text))
      FROM (SELECT id FROM users WHERE id = ANY(${userIds}::uuid[]) ORDER BY id FOR KEY SHARE) AS owners`);
  }

  /**
   * Like {@link lockUsers} without waiting: locks the users no other transaction holds (being deleted, or written by
   * another writer) and tells which those are; users that do not exist are left out.
   */
  async lockFreeUsers(userIds: string[]): Promise<{ id: string; locked: boolean }[]> {
    return this.db.rows(sql`
      WITH free AS MATERIALIZED (SELECT id FROM users WHERE id = ANY(${userIds}::uuid[]) FOR KEY SHARE SKIP LOCKED)
      SELECT u.id, CASE WHEN f.id IS NULL THEN false
                        ELSE pg_try_advisory_xact_lock(${USER_LOCK_CLASS}, hashtext(u.id::text)) END AS locked
      FROM users u LEFT JOIN free f ON f.id = u.id
      WHERE u.id = ANY(${userIds}::uuid[])`);
  }

  /**
   * Stores each user's events whose id that user has not sent since `duplicatesSince`, and marks them active on
   * their days and on the days of their `activeAt`: one statement for any number of users and events. Returns, per
   * user whose row exists, how many events were stored and the days PostgreSQL's time-zone rules give `activeAt`
   * (Node's own rules may differ for a while after a country changes its clocks). Call with the users locked, each
   * user once; a user missing from the result was deleted (through another instance, say).
   */
  async record(
    writes: ActivityWrite[],
    options: { timeZone: string; duplicatesSince: Date },
  ): Promise<Map<string, Recorded>> {
    const { timeZone, duplicatesSince } = options;
    const statement = sql`
      WITH writes AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(writes)}::jsonb)
          AS w("userId" uuid, "activeAt" timestamptz[], events jsonb)
      ),
      -- Once per write what a foreign key would check per event; the lock keeps the user until this commits.
      owners AS (SELECT id AS user_id FROM users WHERE id IN (SELECT "userId" FROM writes) FOR KEY SHARE),
      input AS (
        SELECT o.user_id, e.* FROM owners o JOIN writes w ON w."userId" = o.user_id
        CROSS JOIN jsonb_to_recordset(w.events) AS e(id uuid, name text, "occurredAt" timestamptz, properties jsonb)
      ),
      stored AS (
        INSERT INTO analytics_events (user_id, occurred_at, name, id, properties)
        SELECT i.user_id, i."occurredAt", i.name, i.id, i.properties FROM input i
        WHERE i.id IS NULL OR NOT EXISTS (
          SELECT FROM analytics_events e
          WHERE e.user_id = i.user_id AND e.id = i.id AND e.occurred_at >= ${duplicatesSince}
          -- One index probe per event: never a join that reads all the user's recent events.
          OFFSET 0)
        RETURNING user_id, name, occurred_at
      ),
      name_days AS (
        SELECT user_id, (occurred_at AT TIME ZONE ${timeZone})::date AS day, name, count(*)::int AS events
        FROM stored GROUP BY 1, 2, 3
      ),
      -- The shared counters' rows are locked by the three write CTEs no other part reads (counted_events,
      -- counted_users, summary), which PostgreSQL runs after the main query, last written first: the daily summary,
      -- then users per name and day, then events per name and day. \`forget\` keeps to that order.
      counted_events AS (${addToEventDays(sql`name_days`)}),
      counted_user_events AS (
        INSERT INTO analytics_user_event_days AS t (user_id, name, day, events)
        SELECT user_id, name, day, events FROM name_days ORDER BY user_id, name, day
        ON CONFLICT (user_id, name, day) DO UPDATE SET events = t.events + excluded.events
      ),
      -- The snapshot predates counted_user_events, and the users' locks keep other writers of these rows out.
      new_name_days AS (
        SELECT user_id, name, day FROM name_days n WHERE NOT EXISTS (
          SELECT FROM analytics_user_event_days d WHERE d.user_id = n.user_id AND d.name = n.name AND d.day = n.day)
      ),
      ${nameDayChanges},
      counted_users AS (${addToNameDays(sql`name_day_changes`)}),
      active AS (
        SELECT DISTINCT o.user_id, (at AT TIME ZONE ${timeZone})::date AS day
        FROM owners o JOIN writes w ON w."userId" = o.user_id CROSS JOIN unnest(w."activeAt") AS at
      ),
      new_days AS (
        INSERT INTO analytics_active_days (user_id, day)
        SELECT user_id, day FROM (SELECT user_id, day FROM name_days UNION SELECT user_id, day FROM active) d
        ORDER BY user_id, day
        ON CONFLICT DO NOTHING
        RETURNING user_id, day
      ),
      first_seen AS (
        INSERT INTO analytics_users AS u (user_id, first_day)
        SELECT user_id, min(day) FROM new_days GROUP BY user_id ORDER BY user_id
        ON CONFLICT (user_id) DO UPDATE SET first_day = excluded.first_day WHERE excluded.first_day < u.first_day
      ),
      -- The statement's snapshot predates new_days: "earlier" holds only the days users were already active on.
      earlier AS (
        SELECT a.user_id, a.day FROM analytics_active_days a
        JOIN (SELECT user_id, min(day) - 29 AS first, max(day) + 29 AS last FROM new_days GROUP BY user_id) n
          ON a.user_id = n.user_id AND a.day BETWEEN n.first AND n.last
      ),
      newly_counted AS (${windows(sql`new_days`)} EXCEPT ${windows(sql`earlier`)}),
      summary AS (${addToSummary(sql`newly_counted`, 1)})
      SELECT o.user_id AS "userId", (SELECT count(*)::int FROM stored s WHERE s.user_id = o.user_id) AS stored,
             ARRAY(SELECT to_char(day, 'YYYY-MM-DD') FROM active a WHERE a.user_id = o.user_id) AS "activeDays"
      FROM owners o`;
    // Prepared: for one event, PostgreSQL took longer to plan this statement than to run it (bench/README.md).
    const rows = await this.db.rows<Recorded & { userId: string }>(prepared('analytics_record', statement));
    return new Map(rows.map(({ userId, ...result }) => [userId, result]));
  }

  /**
   * Takes the user out of every count (the summary, event counts, users per event name), from the rollups, which
   * outlive the raw events, and deletes their events; deleting the user's row then removes the rest (cascade).
   */
  async forget(userId: string): Promise<void> {
    // One statement per counter, in the order `record` takes their rows in (see there): the other way round, erasing a
    // user and recording another's events would each wait for a row the other holds.
    await this.db.rows(sql`
      WITH counted AS (
        SELECT DISTINCT user_id, size, day
        FROM (${windows(sql`(SELECT user_id, day FROM analytics_active_days WHERE user_id = ${userId})`)}) w
      )
      ${addToSummary(sql`counted`, -1)}`);
    const mine = sql`(
      SELECT user_id, day, name, -events AS events, -1 AS users,
             coalesce(lag(day) OVER (PARTITION BY name ORDER BY day), '-infinity') AS previous
      FROM analytics_user_event_days WHERE user_id = ${userId})`;
    await this.db.rows(addToNameDays(mine));
    await this.db.rows(addToEventDays(mine));
    await this.db.rows(sql`DELETE FROM analytics_events WHERE user_id = ${userId}`);
  }
}
