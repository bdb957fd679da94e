import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { TaskStatistics } from '../tasks/task-statistics.js';
import { Clock } from '../utils/clock.js';
import { addDays, dayIn, daysBetween, mondayOf, type Day } from './days.js';
import type {
  ActiveUsersDto,
  ActiveUsersDayDto,
  ComparedDto,
  EventDaysDto,
  EventsReportDto,
  EventUseDto,
  FunnelDto,
  LifecycleDto,
  RetentionDto,
  SummaryDto,
} from './insights.dto.js';
import {
  durationMs,
  type EventsQuery,
  type FunnelQuery,
  type PeriodQuery,
  type RangeQuery,
} from './insights.query.js';
import { InsightsRepository, type EventCountRow, type Interval } from './insights.repository.js';

const GROWING_EVENTS = 5;

/** The answers of the admin analytics endpoints; every definition is in docs/analytics.md. */
@Injectable()
export class InsightsService {
  private readonly timeZone: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly insights: InsightsRepository,
    private readonly clock: Clock,
    private readonly tasks: TaskStatistics,
  ) {
    this.timeZone = config.analytics.timeZone;
  }

  async activeUsers({ from, to }: RangeQuery): Promise<ActiveUsersDto> {
    return { timezone: this.timeZone, days: await this.activeDays(from, to) };
  }

  async events({ from, to, limit }: EventsQuery): Promise<EventsReportDto> {
    return { items: (await this.eventUse(from, to, { by: 'count', limit })).map(withChange) };
  }

  async eventDays(name: string, { from, to }: RangeQuery): Promise<EventDaysDto> {
    return { name, days: await this.insights.eventDays(name, from, to) };
  }

  async funnel({ steps, from, to, window }: FunnelQuery): Promise<FunnelDto> {
    const users = await this.insights.funnel(steps, from, to, durationMs(window)!, this.timeZone);
    return {
      steps: steps.map((name, step) => ({
        name,
        users: users[step]!,
        conversion: step === 0 ? 1 : ratio(users[step]!, users[0]!),
        dropOff: step === 0 ? 0 : users[step - 1]! - users[step]!,
      })),
    };
  }

  async retention({ from, to, interval }: PeriodQuery): Promise<RetentionDto> {
    const starts = periodStarts(interval, from, to);
    if (starts.length === 0) return { cohorts: [] };
    const lastPeriod = interval === 'day' ? to : mondayOf(to);
    const rows = await this.insights.retention(interval, starts[0]!, starts.at(-1)!, lastPeriod);
    const active = new Map(rows.map(({ start, period, users }) => [`${start} ${period}`, users]));
    const length = interval === 'day' ? 1 : 7;
    return {
      cohorts: starts.map((start) => {
        const periods = daysBetween(start, lastPeriod) / length + 1;
        const retained = Array.from(
          { length: periods },
          (_, k) => active.get(`${start} ${addDays(start, k * length)}`) ?? 0,
        );
        return { start, size: retained[0]!, retained };
      }),
    };
  }

  async lifecycle({ from, to, interval }: PeriodQuery): Promise<LifecycleDto> {
    const starts = periodStarts(interval, from, to);
    if (starts.length === 0) return { periods: [] };
    const rows = await this.insights.lifecycle(interval, starts[0]!, starts.at(-1)!);
    const byStart = new Map(rows.map((row) => [row.start, row]));
    return {
      periods: starts.map(
        (start) => byStart.get(start) ?? { start, new: 0, returning: 0, resurrecting: 0, dormant: 0 },
      ),
    };
  }

  /** The last 7 complete days against the 7 before. */
  async summary(): Promise<SummaryDto> {
    const today = dayIn(this.timeZone, this.clock.now());
    const period = { from: addDays(today, -7), to: addDays(today, -1) };
    const previousPeriod = { from: addDays(today, -14), to: addDays(today, -8) };
    const [days, newUsers, previousNewUsers, cohort, events, tasks] = await Promise.all([
      this.activeDays(previousPeriod.from, period.to),
      this.insights.newUsers(period.from, period.to),
      this.insights.newUsers(previousPeriod.from, previousPeriod.to),
      this.insights.cohortActive(previousPeriod.from, previousPeriod.to, period.from, period.to),
      this.eventUse(period.from, period.to, { by: 'growth', limit: GROWING_EVENTS }),
      this.tasks.summary(),
    ]);
    const [before, last] = [days.slice(0, 7), days.slice(7)];
    const meanStickiness = (week: ActiveUsersDayDto[]) =>
      week.reduce((sum, day) => sum + day.stickiness, 0) / week.length;
    return {
      timezone: this.timeZone,
      period,
      previousPeriod,
      activeUsers: compared(last.at(-1)!.wau, before.at(-1)!.wau),
      newUsers: compared(newUsers, previousNewUsers),
      stickiness: compared(meanStickiness(last), meanStickiness(before)),
      lastCohortRetention: {
        cohortStart: previousPeriod.from,
        size: cohort.size,
        retained: cohort.active,
        rate: ratio(cohort.active, cohort.size),
      },
      growingEvents: events.map(withChange),
      tasks,
    };
  }

  private async activeDays(from: Day, to: Day): Promise<ActiveUsersDayDto[]> {
    const rows = await this.insights.activeUsers(from, to);
    return rows.map((row) => ({ ...row, stickiness: ratio(row.dau, row.mau) }));
  }

  private eventUse(
    from: Day,
    to: Day,
    top: { by: 'count' | 'growth'; limit: number },
  ): Promise<EventCountRow[]> {
    const previousFrom = addDays(from, -(daysBetween(from, to) + 1));
    return this.insights.eventCounts(previousFrom, from, to, top);
  }
}

/** The starts of the periods that start within the range: every day, or every Monday. */
export function periodStarts(interval: Interval, from: Day, to: Day): Day[] {
  const step = interval === 'day' ? 1 : 7;
  let start = interval === 'day' || mondayOf(from) === from ? from : addDays(mondayOf(from), 7);
  const starts: Day[] = [];
  for (; start <= to; start = addDays(start, step)) starts.push(start);
  return starts;
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

function withChange(row: EventCountRow): EventUseDto {
  return {
    ...row,
    change: row.previousCount === 0 ? null : (row.count - row.previousCount) / row.previousCount,
  };
}

function compared(value: number, previous: number): ComparedDto {
  return { value, previous, change: previous === 0 ? null : (value - previous) / previous };
}
