import { Injectable } from '@nestjs/common';
import { Database, empty, join, raw, sql, type Sql } from '../database/database.js';
import { addDays, type Day } from './days.js';

export type Interval = 'day' | 'week';

/** Counts of one event name over a range and over the range of the same length just before it. */
export interface EventCountRow {
  name: string;
  count: number;
  users: number;
  previousCount: number;
}

/** A user's active days (oldest first) and latest events (newest first) in a range. */
export interface UserActivityRow {
  days: Day[];
  events: { name: string; occurredAt: string; properties: Record<string, unknown> | null }[];
}

/** The first instant of a calendar day in the time zone (the later one where midnight happens twice). */
const startOf = (day: Day, timeZone: string) => sql`(${day}::date::timestamp AT TIME ZONE ${timeZone})`;
/**
 * The instant `column` falls on a day from `from` to `to` in the zone, by its local date as the rollups count days:
 * where clocks go back at midnight, a day starts before `startOf` says. The instant bounds, a day wider, keep the
 * indexes in use.
 */
const onDays = (column: Sql, from: Day, to: Day, timeZone: string) => sql`
  ${column} >= ${startOf(addDays(from, -1), timeZone)} AND ${column} < ${startOf(addDays(to, 2), timeZone)}
  AND (${column} AT TIME ZONE ${timeZone})::date BETWEEN ${from}::date AND ${to}::date`;
/** The period (a day, or the week from its Monday) a `date` expression falls in. */
const periodOf = (interval: Interval, day: Sql) =>
  interval === 'day' ? day : sql`date_trunc('week', ${day})::date`;
const periodDays = (interval: Interval) => (interval === 'day' ? 1 : 7);

/** The questions of the admin analytics endpoints, answered from the rollups where they can be. */
@Injectable()
export class InsightsRepository {
  constructor(private readonly db: Database) {}

  /** One row per day from `from` to `to`, oldest first, from the daily summary (never from raw events). */
  activeUsers(from: Day, to: Day): Promise<{ date: Day; dau: number; wau: number; mau: number }[]> {
    return this.db.rows(sql`
      SELECT d::date::text AS date, coalesce(s.dau, 0) AS dau, coalesce(s.wau, 0) AS wau, coalesce(s.mau, 0) AS mau
      FROM generate_series(${from}::date, ${to}::date, interval '1 day') AS d
      LEFT JOIN (
        SELECT day, sum(dau)::int AS dau, sum(wau)::int AS wau, sum(mau)::int AS mau FROM analytics_daily_counts
        WHERE day BETWEEN ${from}::date AND ${to}::date GROUP BY day
      ) s ON s.day = d::date
      ORDER BY d`);
  }

  /**
   * The `limit` event names sent from `from` to `to` that come first `by` count (most sent) or growth (against the
   * `previousFrom`…`from` before; only names sent then too), with their counts then and before. From the rollups:
   * event counts per day, and users per name by the day they last sent it before (see there).
   */
  eventCounts(
    previousFrom: Day,
    from: Day,
    to: Day,
    top: { by: 'count' | 'growth'; limit: number },
  ): Promise<EventCountRow[]> {
    return this.db.rows(sql`
      WITH counts AS (
        SELECT name, sum(events) FILTER (WHERE day >= ${from}) AS count,
               sum(events) FILTER (WHERE day < ${from}) AS previous
        FROM analytics_event_counts WHERE day BETWEEN ${previousFrom} AND ${to}
        GROUP BY name
      ),
      users AS (
        SELECT name, sum(users) AS users FROM analytics_name_days
        WHERE day BETWEEN ${from} AND ${to} AND previous_day < ${from}
        GROUP BY name
      )
      SELECT name, count::int, coalesce(users, 0)::int AS users, coalesce(previous, 0)::int AS "previousCount"
      FROM counts LEFT JOIN users USING (name)
      WHERE count > 0 ${top.by === 'growth' ? sql`AND previous > 0` : empty}
      ORDER BY ${top.by === 'growth' ? sql`(count - previous)::float8 / previous DESC,` : empty} count DESC, name COLLATE "C"
      LIMIT ${top.limit}`);
  }

  /**
   * One row per day from `from` to `to`, oldest first: events of the name (from analytics_event_counts) and distinct users
   * who sent it that day (each user's day with the name is one of the day's rows of analytics_name_days).
   */
  eventDays(name: string, from: Day, to: Day): Promise<{ date: Day; count: number; users: number }[]> {
    return this.db.rows(sql`
      WITH users AS (
        SELECT day, sum(users) AS users FROM analytics_name_days
        WHERE name = ${name} AND day BETWEEN ${from}::date AND ${to}::date
        GROUP BY day
      ),
      events AS (
        SELECT day, sum(events) AS events FROM analytics_event_counts
        WHERE name = ${name} AND day BETWEEN ${from}::date AND ${to}::date
        GROUP BY day
      )
      SELECT d::date::text AS date, coalesce(e.events, 0)::int AS count, coalesce(u.users, 0)::int AS users
      FROM generate_series(${from}::date, ${to}::date, interval '1 day') AS d
      LEFT JOIN events e ON e.day = d::date
      LEFT JOIN users u ON u.day = d::date
      ORDER BY d`);
  }

  /**
   * Users reaching each step. For each event, the latest step-1 time it can be chained back to (through events of the
   * steps in between, in time order, ties allowed) is carried forward step by step with a running max: a user reaches
   * step k when a step-k event lies within `windowMs` of that time.
   */
  async funnel(steps: string[], from: Day, to: Day, windowMs: number, timeZone: string): Promise<number[]> {
    const window = sql`(${windowMs} * interval '1 millisecond')`;
    let chained = sql`
      SELECT e.user_id, e.occurred_at AS t, s.step,
             CASE WHEN s.step = 1 AND ${onDays(sql`e.occurred_at`, from, to, timeZone)} THEN e.occurred_at END AS l1
      FROM analytics_events e
      JOIN unnest(${steps}::text[]) WITH ORDINALITY AS s(name, step) ON s.name = e.name
      WHERE e.name = ANY(${steps}::text[])
        AND e.occurred_at >= ${startOf(addDays(from, -1), timeZone)}
        AND e.occurred_at < ${startOf(addDays(to, 2), timeZone)} + ${window}`;
    for (let step = 2; step <= steps.length; step++) {
      chained = sql`
        SELECT *, CASE WHEN step = ${step} THEN max(${raw(`l${step - 1}`)}) OVER (PARTITION BY user_id ORDER BY t) END
          AS ${raw(`l${step}`)}
        FROM (${chained}) ${raw(`c${step}`)}`;
    }
    const reached = steps.map((_, index) =>
      index === 0
        ? sql`count(DISTINCT user_id) FILTER (WHERE l1 IS NOT NULL)::int`
        : sql`count(DISTINCT user_id) FILTER (WHERE t - ${raw(`l${index + 1}`)} <= ${window})::int`,
    );
    const row = await this.db.row<{ users: number[] }>(
      sql`SELECT ARRAY[${join(reached)}] AS users FROM (${chained}) AS chained`,
    );
    return row!.users;
  }

  /**
   * Sizes of the cohorts (users by the period of their first active day) of the periods `firstStart` to `lastStart`,
   * and how many of each were active in each period up to the one starting on `lastPeriod`.
   */
  retention(
    interval: Interval,
    firstStart: Day,
    lastStart: Day,
    lastPeriod: Day,
  ): Promise<{ start: Day; period: Day; users: number }[]> {
    return this.db.rows(sql`
      WITH cohort AS (
        SELECT user_id, ${periodOf(interval, sql`first_day`)} AS start FROM analytics_users
        WHERE first_day >= ${firstStart}::date AND first_day < ${lastStart}::date + ${periodDays(interval)}::int
      )
      SELECT c.start::text AS start, ${periodOf(interval, sql`a.day`)}::text AS period,
             count(DISTINCT a.user_id)::int AS users
      FROM cohort c JOIN analytics_active_days a ON a.user_id = c.user_id
      WHERE a.day >= c.start AND a.day < ${lastPeriod}::date + ${periodDays(interval)}::int
      GROUP BY 1, 2`);
  }

  /** For each period of `firstStart` to `lastStart` where anything happened: users by lifecycle state. */
  lifecycle(
    interval: Interval,
    firstStart: Day,
    lastStart: Day,
  ): Promise<{ start: Day; new: number; returning: number; resurrecting: number; dormant: number }[]> {
    const length = periodDays(interval);
    return this.db.rows(sql`
      WITH active AS (
        SELECT DISTINCT user_id, ${periodOf(interval, sql`day`)} AS period FROM analytics_active_days
        WHERE day >= ${firstStart}::date - ${length}::int AND day < ${lastStart}::date + ${length}::int
      ),
      compared AS (
        SELECT coalesce(now.period, before.period + ${length}::int) AS period, coalesce(now.user_id, before.user_id) AS user_id,
               now.user_id IS NOT NULL AS active, before.user_id IS NOT NULL AS was_active
        FROM active now FULL JOIN active before
          ON before.user_id = now.user_id AND before.period = now.period - ${length}::int
      )
      SELECT c.period::text AS start,
             count(*) FILTER (WHERE active AND NOT was_active AND ${periodOf(interval, sql`u.first_day`)} = c.period)::int AS new,
             count(*) FILTER (WHERE active AND was_active)::int AS returning,
             count(*) FILTER (WHERE active AND NOT was_active AND ${periodOf(interval, sql`u.first_day`)} < c.period)::int
               AS resurrecting,
             count(*) FILTER (WHERE NOT active)::int AS dormant
      FROM compared c JOIN analytics_users u ON u.user_id = c.user_id
      WHERE c.period >= ${firstStart}::date AND c.period <= ${lastStart}::date
      GROUP BY c.period
      ORDER BY c.period`);
  }

  /** The user's active days from `from` to `to` and their latest `limit` events then; undefined for no such user. */
  userActivity(
    userId: string,
    from: Day,
    to: Day,
    limit: number,
    timeZone: string,
  ): Promise<UserActivityRow | undefined> {
    return this.db.row(sql`
      SELECT
        ARRAY(SELECT day::text FROM analytics_active_days
              WHERE user_id = ${userId} AND day BETWEEN ${from}::date AND ${to}::date ORDER BY day) AS days,
        (SELECT coalesce(json_agg(json_build_object(
                  'name', name,
                  'occurredAt', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                  'properties', properties)
                ORDER BY occurred_at DESC, received_at DESC, name), '[]')
         FROM (SELECT name, occurred_at, received_at, properties FROM analytics_events
               WHERE user_id = ${userId} AND ${onDays(sql`occurred_at`, from, to, timeZone)}
               ORDER BY occurred_at DESC, received_at DESC, name LIMIT ${limit}) latest) AS events
      FROM users WHERE id = ${userId}`);
  }

  /** Users whose first active day is from `from` to `to`. */
  async newUsers(from: Day, to: Day): Promise<number> {
    const row = await this.db.row<{ count: number }>(sql`
      SELECT count(*)::int AS count FROM analytics_users WHERE first_day BETWEEN ${from}::date AND ${to}::date`);
    return row!.count;
  }

  /** Of the users whose first active day is from `cohortFrom` to `cohortTo`, those active from `from` to `to`. */
  async cohortActive(
    cohortFrom: Day,
    cohortTo: Day,
    from: Day,
    to: Day,
  ): Promise<{ size: number; active: number }> {
    const row = await this.db.row<{ size: number; active: number }>(sql`
      SELECT count(*)::int AS size,
             count(*) FILTER (WHERE EXISTS (
               SELECT FROM analytics_active_days a
               WHERE a.user_id = u.user_id AND a.day BETWEEN ${from}::date AND ${to}::date))::int AS active
      FROM analytics_users u WHERE u.first_day BETWEEN ${cohortFrom}::date AND ${cohortTo}::date`);
    return row!;
  }
}
