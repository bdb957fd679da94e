/**
 * A brute-force model of product analytics, for property tests: it records every authenticated request and every
 * event of a history, then answers the admin analytics queries by counting, straight from their definitions. It
 * knows time zones only through Node's Intl and days only through plain arithmetic, never through src/analytics.
 */

/** A calendar day written `YYYY-MM-DD`. */
export type Day = string;
export type Interval = 'day' | 'week';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

export function addDays(day: Day, days: number): Day {
  return new Date(Date.parse(day) + days * DAY_MS).toISOString().slice(0, 10);
}

/** Every day from `from` to `to`, both included. */
export function daysFrom(from: Day, to: Day): Day[] {
  const days: Day[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

export function mondayOf(day: Day): Day {
  const weekday = new Date(Date.parse(day)).getUTCDay(); // 0 = Sunday
  return addDays(day, -((weekday + 6) % 7));
}

/** Calendar days and local midnights of an IANA time zone. */
export class Zone {
  private readonly wallClock: Intl.DateTimeFormat;

  constructor(readonly name: string) {
    this.wallClock = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
  }

  dayOf(instant: number): Day {
    const { year, month, day } = this.partsOf(instant);
    return `${year}-${month}-${day}`;
  }

  /** The first instant of `day` here (no zone tested changes its offset at midnight). */
  startOf(day: Day): number {
    const wall = Date.parse(day);
    let instant = wall - this.offsetAt(wall);
    instant = wall - this.offsetAt(instant);
    if (this.dayOf(instant) !== day || this.dayOf(instant - 1) === day) {
      throw new Error(`cannot find the start of ${day} in ${this.name}`);
    }
    return instant;
  }

  /** The last millisecond of `day` here. */
  endOf(day: Day): number {
    return this.startOf(addDays(day, 1)) - 1;
  }

  /** Local time minus UTC at an instant, in milliseconds. */
  private offsetAt(instant: number): number {
    const whole = Math.floor(instant / 1000) * 1000;
    const p = this.partsOf(whole);
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - whole;
  }

  private partsOf(instant: number): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string> {
    const parts = Object.fromEntries(
      this.wallClock.formatToParts(instant).map(({ type, value }) => [type, value]),
    );
    return parts as Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string>;
  }
}

/** An event as sent in POST /v1/events. */
export interface SentEvent {
  id?: string;
  name: string;
  occurredAt?: string;
  properties?: Record<string, unknown>;
}

interface StoredEvent {
  user: string;
  id: string | undefined;
  name: string;
  at: number;
}

/**
 * An id is a duplicate while an event of the same user with that id occurred at most this long before now
 * (docs/analytics.md: "up to 8 days earlier"). Enough for any retry of a batch, whose events are at most 7 days old.
 */
const DUPLICATES_WINDOW_MS = 8 * DAY_MS;

export class AnalyticsModel {
  private readonly stored: StoredEvent[] = [];
  /** Every user who made a request, with the days they were active on. */
  private readonly activeDays = new Map<string, Set<Day>>();

  constructor(readonly zone: Zone) {}

  /** An authenticated request by `user` at `now`: the first one signs them up; each marks them active that day. */
  request(user: string, now: number): void {
    if (!this.activeDays.has(user)) {
      this.activeDays.set(user, new Set());
      this.store(user, undefined, 'user.signed_up', now);
    }
    this.activeDays.get(user)!.add(this.zone.dayOf(now));
  }

  /** POST /v1/events by `user` at `now`: the answer it should get. */
  post(user: string, now: number, events: SentEvent[]): { accepted: number; duplicates: number } {
    this.request(user, now);
    let accepted = 0;
    for (const event of events) {
      // UUIDs are case-insensitive.
      const id = event.id?.toLowerCase();
      const duplicate =
        id !== undefined &&
        this.stored.some(
          (sent) => sent.user === user && sent.id === id && sent.at >= now - DUPLICATES_WINDOW_MS,
        );
      if (duplicate) continue;
      this.store(user, id, event.name, event.occurredAt === undefined ? now : Date.parse(event.occurredAt));
      accepted += 1;
    }
    return { accepted, duplicates: events.length - accepted };
  }

  activeUsers(from: Day, to: Day) {
    return {
      timezone: this.zone.name,
      days: daysFrom(from, to).map((date) => {
        const dau = this.usersActiveIn(date, date);
        const wau = this.usersActiveIn(addDays(date, -6), date);
        const mau = this.usersActiveIn(addDays(date, -29), date);
        return { date, dau, wau, mau, stickiness: mau === 0 ? 0 : dau / mau };
      }),
    };
  }

  events(from: Day, to: Day) {
    const length = daysFrom(from, to).length;
    const previousFrom = addDays(from, -length);
    const byName = new Map<string, { count: number; users: Set<string>; previousCount: number }>();
    for (const event of this.stored) {
      const day = this.zone.dayOf(event.at);
      const use = byName.get(event.name) ?? { count: 0, users: new Set<string>(), previousCount: 0 };
      byName.set(event.name, use);
      if (from <= day && day <= to) {
        use.count += 1;
        use.users.add(event.user);
      } else if (previousFrom <= day && day < from) {
        use.previousCount += 1;
      }
    }
    const items = [...byName]
      .filter(([, use]) => use.count > 0)
      .map(([name, { count, users, previousCount }]) => ({
        name,
        count,
        users: users.size,
        previousCount,
        change: previousCount === 0 ? null : (count - previousCount) / previousCount,
      }))
      .sort((a, b) => b.count - a.count || compareNames(a, b));
    return { items };
  }

  funnel(steps: string[], from: Day, to: Day, windowMs: number) {
    const reached = steps.map(() => 0);
    for (const user of this.users()) {
      const times = steps.map((step) =>
        this.stored
          .filter((event) => event.user === user && event.name === step)
          .map((event) => event.at)
          .sort((a, b) => a - b),
      );
      let deepest = 0;
      for (const first of times[0]!) {
        const day = this.zone.dayOf(first);
        if (day < from || day > to) continue;
        // Taking the earliest possible event at each step keeps every later step as reachable as it can be.
        let depth = 1;
        let last = first;
        for (let step = 1; step < steps.length; step++) {
          const next = times[step]!.find((at) => at >= last);
          if (next === undefined || next - first > windowMs) break;
          depth += 1;
          last = next;
        }
        deepest = Math.max(deepest, depth);
      }
      for (let step = 0; step < deepest; step++) reached[step]! += 1;
    }
    return {
      steps: steps.map((name, step) => ({
        name,
        users: reached[step]!,
        conversion: step === 0 ? 1 : reached[0] === 0 ? 0 : reached[step]! / reached[0]!,
        dropOff: step === 0 ? 0 : reached[step - 1]! - reached[step]!,
      })),
    };
  }

  retention(from: Day, to: Day, interval: Interval) {
    const length = interval === 'day' ? 1 : 7;
    const lastPeriod = periodOf(interval, to);
    return {
      cohorts: periodStartsIn(interval, from, to).map((start) => {
        const members = this.users().filter((user) => periodOf(interval, this.firstDay(user)) === start);
        const retained: number[] = [];
        for (let period = start; period <= lastPeriod; period = addDays(period, length)) {
          retained.push(
            members.filter((user) => this.isActiveIn(user, period, addDays(period, length - 1))).length,
          );
        }
        return { start, size: members.length, retained };
      }),
    };
  }

  lifecycle(from: Day, to: Day, interval: Interval) {
    const length = interval === 'day' ? 1 : 7;
    return {
      periods: periodStartsIn(interval, from, to).map((start) => {
        const previous = addDays(start, -length);
        const counts = { start, new: 0, returning: 0, resurrecting: 0, dormant: 0 };
        for (const user of this.users()) {
          const now = this.isActiveIn(user, start, addDays(start, length - 1));
          const before = this.isActiveIn(user, previous, addDays(previous, length - 1));
          const firstPeriod = periodOf(interval, this.firstDay(user));
          if (now && firstPeriod === start) counts.new += 1;
          else if (now && before) counts.returning += 1;
          else if (now && firstPeriod < start) counts.resurrecting += 1;
          else if (!now && before) counts.dormant += 1;
        }
        return counts;
      }),
    };
  }

  /** GET /v1/admin/analytics/summary at `now`: the last 7 complete days against the 7 before them. */
  summary(now: number) {
    const today = this.zone.dayOf(now);
    const period = { from: addDays(today, -7), to: addDays(today, -1) };
    const previousPeriod = { from: addDays(today, -14), to: addDays(today, -8) };
    const newIn = ({ from, to }: Period) =>
      this.users().filter((user) => from <= this.firstDay(user) && this.firstDay(user) <= to);
    const meanStickiness = ({ from, to }: Period) =>
      this.activeUsers(from, to).days.reduce((sum, day) => sum + day.stickiness, 0) / 7;
    const cohort = newIn(previousPeriod);
    const retained = cohort.filter((user) => this.isActiveIn(user, period.from, period.to)).length;
    return {
      timezone: this.zone.name,
      period,
      previousPeriod,
      activeUsers: compared(
        this.usersActiveIn(period.from, period.to),
        this.usersActiveIn(previousPeriod.from, previousPeriod.to),
      ),
      newUsers: compared(newIn(period).length, newIn(previousPeriod).length),
      stickiness: compared(meanStickiness(period), meanStickiness(previousPeriod)),
      lastCohortRetention: {
        cohortStart: previousPeriod.from,
        size: cohort.length,
        retained,
        rate: cohort.length === 0 ? 0 : retained / cohort.length,
      },
      growingEvents: this.events(period.from, period.to)
        .items.filter((use) => use.previousCount > 0)
        .sort((a, b) => b.change! - a.change! || b.count - a.count || compareNames(a, b))
        .slice(0, 5),
      // The histories modelled here hold no manual tasks.
      tasks: { open: 0, overdue: 0, medianSecondsToDecision: null },
    };
  }

  private store(user: string, id: string | undefined, name: string, at: number): void {
    this.stored.push({ user, id, name, at });
    this.activeDays.get(user)!.add(this.zone.dayOf(at));
  }

  private users(): string[] {
    return [...this.activeDays.keys()];
  }

  private firstDay(user: string): Day {
    return [...this.activeDays.get(user)!].sort()[0]!;
  }

  private isActiveIn(user: string, from: Day, to: Day): boolean {
    return [...this.activeDays.get(user)!].some((day) => from <= day && day <= to);
  }

  private usersActiveIn(from: Day, to: Day): number {
    return this.users().filter((user) => this.isActiveIn(user, from, to)).length;
  }
}

interface Period {
  from: Day;
  to: Day;
}

function compared(value: number, previous: number) {
  return { value, previous, change: previous === 0 ? null : (value - previous) / previous };
}

function compareNames(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function periodOf(interval: Interval, day: Day): Day {
  return interval === 'day' ? day : mondayOf(day);
}

/** The days, or the Mondays, from `from` to `to`. */
function periodStartsIn(interval: Interval, from: Day, to: Day): Day[] {
  return daysFrom(from, to).filter((day) => periodOf(interval, day) === day);
}
