import { Injectable } from '@nestjs/common';
import { Database, prepared, sql, type Sql } from '../database/database.js';
import { MissingReference } from '../database/postgres-errors.js';

/** An event as stored: `occurredAt` an ISO 8601 instant; `id` the client's, for recognising retries. */
export interface EventRow {
  id: string | null;
  name: string;
  occurredAt: string;
  properties: object | null;
}

/** Two-key advisory locks of analytics: (this class, a hash of the user id). */
const USER_LOCK_CLASS = 0x616e61;

/** Each user's active days extended by 1, 7 and 30 days: the days on which they count in DAU, WAU and MAU. */
const windows = (activeDays: Sql) => sql`
  SELECT w.size, a.day + k AS day
  FROM ${activeDays} a
  CROSS JOIN (VALUES (1), (7), (30)) AS w(size)
  CROSS JOIN generate_series(0, w.size - 1) AS k`;

/** The user's of the 8 rows per key of the counters every user adds to, which readers sum: few writes wait on one. */
const counterShard = (userId: string) => Number.parseInt(userId.slice(-2), 16) % 8;

/** Adds the per-day counts of `coverage` (rows of size, day) to the DAU/WAU/MAU summary, times `sign`. */
const addToSummary = (coverage: Sql, sign: 1 | -1, shard: number) => sql`
  INSERT INTO analytics_daily_counts AS t (day, shard, dau, wau, mau)
  SELECT day, ${shard}, ${sign} * count(*) FILTER (WHERE size = 1), ${sign} * count(*) FILTER (WHERE size = 7),
         ${sign} * count(*) FILTER (WHERE size = 30)
  FROM ${coverage} c GROUP BY day
  -- Rows are locked in day order by every writer, so concurrent writers never deadlock.
  ORDER BY day
  ON CONFLICT (day, shard) DO UPDATE SET dau = t.dau + excluded.dau, wau = t.wau + excluded.wau, mau = t.mau + excluded.mau`;

/**
 * Keeps analytics_name_days exact as the user's (name, day) pairs in new_name_days are added: a row counts the users
 * whose previous day with that event name was previous_day ('-infinity' for none), so the distinct users of a name
 * over [from, to] are the sum over days in the range whose previous day lies before it. A new day adds its own row
 * and becomes the previous day of the user's next day with that name, which moves from its old previous day.
 */
const nameDayChanges = (userId: string) => sql`
  known AS (
    SELECT name, day, false AS new FROM analytics_user_event_days
    WHERE user_id = ${userId} AND name IN (SELECT name FROM new_name_days)
    UNION ALL
    SELECT name, day, true FROM new_name_days
  ),
  chained AS (
    SELECT name, day, new, coalesce(lag(day) OVER w, '-infinity') AS previous, coalesce(lag(new) OVER w, false) AS after_new
    FROM known WINDOW w AS (PARTITION BY name ORDER BY day)
  ),
  name_day_changes AS (
    SELECT day, name, previous, 1 AS users FROM chained WHERE new OR after_new
    UNION ALL
    SELECT c.day, c.name,
           coalesce((SELECT max(k.day) FROM known k WHERE k.name = c.name AND k.day < c.day AND NOT k.new), '-infinity'),
           -1
    FROM chained c WHERE NOT c.new AND c.after_new
  )`;

/** Adds `counts` (rows of day, name, events) to analytics_event_counts. */
const addToEventDays = (counts: Sql, shard: number) => sql`
  INSERT INTO analytics_event_counts AS t (day, name, shard, events)
  SELECT day, name, ${shard}, events FROM ${counts} c ORDER BY day, name
  ON CONFLICT (day, name, shard) DO UPDATE SET events = t.events + excluded.events`;

/** Adds `changes` (rows of day, name, previous, users) to analytics_name_days. */
const addToNameDays = (changes: Sql) => sql`
  INSERT INTO analytics_name_days AS t (day, name, previous_day, users)
  SELECT day, name, previous, sum(users) FROM ${changes} c GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (day, name, previous_day) DO UPDATE SET users = t.users + excluded.users`;

/**
 * What users did: raw events and the rollups the queries read (active days, first days, the daily DAU/WAU/MAU
 * summary, events per user, name and day, per name and day, and users per name and day), kept exact as events are
 * added and users erased. Every write for a user runs under that user's lock, so
 * two writes never count the same newly active day twice.
 */
@Injectable()
export class ActivityRepository {
  constructor(private readonly db: Database) {}

  /**
   * Serialises the writes of one user until the transaction ends. The user's row is locked first, as deleting the
   * user locks it first too: a deletion and a write then never wait for each other in opposite orders (a deadlock).
   */
  async lockUser(userId: string): Promise<void> {
    // One round trip: the row is locked as the subquery reads it, before the outer query takes the advisory lock. No
    // row, no lock: the write that follows then finds no user and stores nothing.
    await this.db.rows(sql`
      SELECT pg_advisory_xact_lock(${USER_LOCK_CLASS}, hashtext(${userId}::text))
      FROM (SELECT FROM users WHERE id = ${userId} FOR KEY SHARE) AS owner`);
  }

  /**
   * Stores the events whose id this user has not sent since `duplicatesSince`, and marks the user active on their
   * days (and on the day of `activeAt`, if given), one statement whatever the batch size. Returns how many events
   * were stored, and the day PostgreSQL's time-zone rules give `activeAt` (Node's own rules may differ for a while
   * after a country changes its clocks). Call with the user locked. A user whose row is gone (deleted through another instance) fails as a
   * foreign key would, so that the request is retried for the user provisioned again.
   */
  async record(
    userId: string,
    events: EventRow[],
    options: { timeZone: string; duplicatesSince: Date; activeAt?: Date },
  ): Promise<{ stored: number; activeDay: string | null }> {
    const { timeZone, duplicatesSince, activeAt } = options;
    const statement = sql`
      -- Once per batch what a foreign key would check per event; the lock keeps the user until this commits.
      WITH owner AS (SELECT FROM users WHERE id = ${userId} FOR KEY SHARE),
      input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(events)}::jsonb)
          AS e(id uuid, name text, "occurredAt" timestamptz, properties jsonb)
      ),
      stored AS (
        INSERT INTO analytics_events (user_id, occurred_at, name, id, properties)
        SELECT ${userId}, i."occurredAt", i.name, i.id, i.properties FROM input i
        WHERE EXISTS (SELECT FROM owner) AND (i.id IS NULL OR NOT EXISTS (
          SELECT FROM analytics_events e
          WHERE e.user_id = ${userId} AND e.id = i.id AND e.occurred_at >= ${duplicatesSince}
          -- One index probe per event: never a join that reads all the user's recent events.
          OFFSET 0))
        RETURNING name, occurred_at
      ),
      name_days AS (
        SELECT (occurred_at AT TIME ZONE ${timeZone})::date AS day, name, count(*)::int AS events
        FROM stored GROUP BY 1, 2
      ),
      counted_events AS (${addToEventDays(sql`name_days`, counterShard(userId))}),
      counted_user_events AS (
        INSERT INTO analytics_user_event_days AS t (user_id, name, day, events)
        SELECT ${userId}, name, day, events FROM name_days ORDER BY name, day
        ON CONFLICT (user_id, name, day) DO UPDATE SET events = t.events + excluded.events
      ),
      -- The snapshot predates counted_user_events, and the user's lock keeps other writers of these rows out.
      new_name_days AS (
        SELECT name, day FROM name_days n WHERE NOT EXISTS (
          SELECT FROM analytics_user_event_days d WHERE d.user_id = ${userId} AND d.name = n.name AND d.day = n.day)
      ),
      ${nameDayChanges(userId)},
      counted_users AS (${addToNameDays(sql`name_day_changes`)}),
      days AS (
        SELECT (occurred_at AT TIME ZONE ${timeZone})::date AS day FROM stored
        UNION
        SELECT (${activeAt ?? null}::timestamptz AT TIME ZONE ${timeZone})::date WHERE ${activeAt ?? null}::timestamptz IS NOT NULL
      ),
      new_days AS (
        INSERT INTO analytics_active_days (user_id, day) SELECT ${userId}, day FROM days ORDER BY day
        ON CONFLICT DO NOTHING
        RETURNING day
      ),
      first_seen AS (
        INSERT INTO analytics_users AS u (user_id, first_day)
        SELECT ${userId}, min(day) FROM new_days HAVING count(*) > 0
        ON CONFLICT (user_id) DO UPDATE SET first_day = excluded.first_day WHERE excluded.first_day < u.first_day
      ),
      -- The statement's snapshot predates new_days: "earlier" holds only the days the user was already active on.
      earlier AS (
        SELECT day FROM analytics_active_days
        WHERE user_id = ${userId}
          AND day BETWEEN (SELECT min(day) - 29 FROM new_days) AND (SELECT max(day) + 29 FROM new_days)
      ),
      newly_counted AS (${windows(sql`new_days`)} EXCEPT ${windows(sql`earlier`)}),
      summary AS (${addToSummary(sql`newly_counted`, 1, counterShard(userId))})
      SELECT count(*)::int AS stored, EXISTS (SELECT FROM owner) AS owned,
        to_char((${activeAt ?? null}::timestamptz AT TIME ZONE ${timeZone})::date, 'YYYY-MM-DD') AS "activeDay"
      FROM stored`;
    // Prepared: for one event, PostgreSQL took longer to plan this statement than to run it (bench/README.md).
    const result = await this.db.row<{ stored: number; owned: boolean; activeDay: string | null }>(
      prepared('analytics_record', statement),
    );
    if (!result!.owned) throw new MissingReference('users', userId);
    return { stored: result!.stored, activeDay: result!.activeDay };
  }

  /**
   * Recomputes every rollup from the raw events alone, for bulk loads (`npm run
   * seed:events`): activity recorded without events is lost. Each active day counts in a window until the window
   * ends or the user's next active day starts (`least` skips the null of a last day); the summary is the running sum of those spans' starts and ends.
   */
  async rebuildFromEvents(timeZone: string): Promise<void> {
    await this.db.transaction(async () => {
      // A bulk operation: sorts and hashes in memory, rows inserted in key order.
      await this.db.rows(sql`SET LOCAL work_mem = '256MB'`);
      await this.db.rows(sql`
        TRUNCATE analytics_active_days, analytics_users, analytics_daily_counts, analytics_event_counts,
                 analytics_user_event_days, analytics_name_days`);
      await this.db.rows(sql`
        INSERT INTO analytics_user_event_days (user_id, name, day, events)
        SELECT user_id, name, (occurred_at AT TIME ZONE ${timeZone})::date, count(*) FROM analytics_events
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
      await this.db.rows(sql`
        INSERT INTO analytics_event_counts (day, name, shard, events)
        SELECT day, name, 0, sum(events) FROM analytics_user_event_days GROUP BY 1, 2`);
      await this.db.rows(sql`
        INSERT INTO analytics_name_days (day, name, previous_day, users)
        SELECT day, name, previous, count(*) FROM (
          SELECT day, name, coalesce(lag(day) OVER (PARTITION BY user_id, name ORDER BY day), '-infinity') AS previous
          FROM analytics_user_event_days) d
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`);
      await this.db.rows(sql`
        INSERT INTO analytics_active_days (user_id, day) SELECT DISTINCT user_id, day FROM analytics_user_event_days ORDER BY 1, 2`);
      await this.db.rows(sql`
        INSERT INTO analytics_users (user_id, first_day)
        SELECT user_id, min(day) FROM analytics_active_days GROUP BY user_id`);
      await this.db.rows(sql`
        WITH spans AS (
          SELECT w.size, a.day AS start,
                 least(a.day + w.size, lead(a.day) OVER (PARTITION BY w.size, a.user_id ORDER BY a.day)) AS stop
          FROM analytics_active_days a CROSS JOIN (VALUES (1), (7), (30)) AS w(size)
        ),
        changes AS (
          SELECT day, sum(delta) FILTER (WHERE size = 1) AS dau, sum(delta) FILTER (WHERE size = 7) AS wau,
                 sum(delta) FILTER (WHERE size = 30) AS mau
          FROM (SELECT size, start AS day, 1 AS delta FROM spans
                UNION ALL SELECT size, stop, -1 FROM spans) d
          GROUP BY day
        ),
        days AS (
          SELECT d::date AS day, coalesce(c.dau, 0) AS dau, coalesce(c.wau, 0) AS wau, coalesce(c.mau, 0) AS mau
          FROM generate_series((SELECT min(day) FROM changes), (SELECT max(day) FROM changes), interval '1 day') d
          LEFT JOIN changes c ON c.day = d::date
        )
        INSERT INTO analytics_daily_counts (day, shard, dau, wau, mau)
        SELECT day, 0, sum(dau) OVER w, sum(wau) OVER w, sum(mau) OVER w FROM days
        WINDOW w AS (ORDER BY day)`);
    });
  }

  /**
   * Takes the user out of every count (the summary, event counts, users per event name), from the rollups, which
   * outlive the raw events, and deletes their events; deleting the user's row then removes the rest (cascade).
   */
  async forget(userId: string): Promise<void> {
    await this.db.rows(sql`
      WITH counted AS (
        SELECT DISTINCT size, day FROM (${windows(sql`(SELECT day FROM analytics_active_days WHERE user_id = ${userId})`)}) w
      ),
      summary AS (${addToSummary(sql`counted`, -1, counterShard(userId))}),
      mine AS (
        SELECT day, name, events, coalesce(lag(day) OVER (PARTITION BY name ORDER BY day), '-infinity') AS previous,
               -1 AS users
        FROM analytics_user_event_days WHERE user_id = ${userId}
      ),
      uncounted_events AS (${addToEventDays(sql`(SELECT day, name, -events AS events FROM mine)`, counterShard(userId))}),
      deleted AS (DELETE FROM analytics_events WHERE user_id = ${userId})
      ${addToNameDays(sql`mine`)}`);
  }
}
