import { Injectable } from '@nestjs/common';
import { Database, sql, type Sql } from '../database/database.js';

/*
 * The rollups the analytics queries read instead of raw events: the daily DAU/WAU/MAU summary
 * (analytics_daily_counts), events per name and day (analytics_event_counts) and users per name and day
 * (analytics_name_days). ActivityRepository keeps them exact with the statements below as events arrive and users
 * are erased; RollupsRepository recomputes them from scratch.
 */

/** Each user's active days (user_id, day) extended by 1, 7 and 30 days: when they count in DAU, WAU and MAU. */
export const windows = (activeDays: Sql) => sql`
  SELECT a.user_id, w.size, a.day + k AS day
  FROM ${activeDays} a
  CROSS JOIN (VALUES (1), (7), (30)) AS w(size)
  CROSS JOIN generate_series(0, w.size - 1) AS k`;

/**
 * Which of the 8 rows per key of the counters every user adds to holds a user's share (readers sum them): writes for
 * different users seldom wait on one row. The last byte of the user's id.
 */
const shardOf = (userId: Sql) => sql`get_byte(uuid_send(${userId}), 15) % 8`;

/** Adds the per-day counts of `coverage` (rows of user_id, size, day) to the DAU/WAU/MAU summary, times `sign`. */
export const addToSummary = (coverage: Sql, sign: 1 | -1) => sql`
  INSERT INTO analytics_daily_counts AS t (day, shard, dau, wau, mau)
  SELECT day, ${shardOf(sql`user_id`)}, ${sign} * count(*) FILTER (WHERE size = 1),
         ${sign} * count(*) FILTER (WHERE size = 7), ${sign} * count(*) FILTER (WHERE size = 30)
  FROM ${coverage} c GROUP BY 1, 2
  -- Rows are locked in key order by every writer, so concurrent writers never deadlock.
  ORDER BY 1, 2
  ON CONFLICT (day, shard) DO UPDATE SET dau = t.dau + excluded.dau, wau = t.wau + excluded.wau, mau = t.mau + excluded.mau`;

/**
 * Keeps analytics_name_days exact as the users' (user_id, name, day) in new_name_days are added: a row counts the users
 * whose previous day with that event name was previous_day ('-infinity' for none), so the distinct users of a name
 * over [from, to] are the sum over days in the range whose previous day lies before it. A new day adds its own row
 * and becomes the previous day of the user's next day with that name, which moves from its old previous day.
 */
export const nameDayChanges = sql`
  known AS (
    SELECT user_id, name, day, false AS new FROM analytics_user_event_days
    WHERE (user_id, name) IN (SELECT user_id, name FROM new_name_days)
    UNION ALL
    SELECT user_id, name, day, true FROM new_name_days
  ),
  chained AS (
    SELECT user_id, name, day, new, coalesce(lag(day) OVER w, '-infinity') AS previous,
           coalesce(lag(new) OVER w, false) AS after_new
    FROM known WINDOW w AS (PARTITION BY user_id, name ORDER BY day)
  ),
  name_day_changes AS (
    SELECT day, name, previous, 1 AS users FROM chained WHERE new OR after_new
    UNION ALL
    SELECT c.day, c.name,
           coalesce((SELECT max(k.day) FROM known k
                     WHERE k.user_id = c.user_id AND k.name = c.name AND k.day < c.day AND NOT k.new), '-infinity'),
           -1
    FROM chained c WHERE NOT c.new AND c.after_new
  )`;

/** Adds `counts` (rows of user_id, day, name, events) to analytics_event_counts. */
export const addToEventDays = (counts: Sql) => sql`
  INSERT INTO analytics_event_counts AS t (day, name, shard, events)
  SELECT day, name, ${shardOf(sql`user_id`)}, sum(events) FROM ${counts} c GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (day, name, shard) DO UPDATE SET events = t.events + excluded.events`;

/** Adds `changes` (rows of day, name, previous, users) to analytics_name_days. */
export const addToNameDays = (changes: Sql) => sql`
  INSERT INTO analytics_name_days AS t (day, name, previous_day, users)
  SELECT day, name, previous, sum(users) FROM ${changes} c GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (day, name, previous_day) DO UPDATE SET users = t.users + excluded.users`;

/** Recomputes the rollups from the raw events, for bulk loads. */
@Injectable()
export class RollupsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Recomputes every rollup, active days and first days included, from the raw events alone, for bulk loads (`npm
   * run seed:events`): activity recorded without events is lost. Each active day counts in a window until the window
   * ends or the user's next active day starts (`least` skips the null of a last day); the summary is the running sum
   * of those spans' starts and ends.
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
}
