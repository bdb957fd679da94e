import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  Matches,
  Max,
  Min,
  ValidateBy,
} from 'class-validator';
import { DecimalInteger } from '../http/pagination.js';
import { daysBetween, isDay, type Day } from './days.js';
import { EVENT_NAME } from './event-batch.js';
import type { Interval } from './insights.repository.js';

/** The longest range a query may cover, both ends included. */
export const MAX_RANGE_DAYS = 366;
const MAX_WINDOW_MS = 90 * 86_400_000;
const DURATION = /^P(?:(\d{1,3})D)?(?:T(?:(\d{1,4})H)?(?:(\d{1,6})M)?)?$/;

/** An ISO 8601 duration of days, hours and minutes (P7D, PT30M, P1DT12H) in milliseconds; undefined if not one. */
export function durationMs(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [days = 0, hours = 0, minutes = 0] = match.slice(1).map((part) => Number(part ?? 0));
  return ((days * 24 + hours) * 60 + minutes) * 60_000;
}

/** The days a query may name: room enough around them that the periods and windows counted stay 4-digit years. */
export const FIRST_DAY = '1970-01-01';
export const LAST_DAY = '2999-12-31';

export const IsDay = () =>
  ValidateBy({
    name: 'isDay',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && isDay(value) && value >= FIRST_DAY && value <= LAST_DAY,
      defaultMessage: (args) =>
        `${args?.property} must be a date written YYYY-MM-DD, from ${FIRST_DAY} to ${LAST_DAY}`,
    },
  });

/** `to` is on or after `from`, and the range holds at most MAX_RANGE_DAYS days. */
export const EndsWithinRange = () =>
  ValidateBy({
    name: 'endsWithinRange',
    validator: {
      validate: (to: unknown, args) => {
        const { from } = args!.object as { from?: unknown };
        if (typeof from !== 'string' || !isDay(from) || typeof to !== 'string' || !isDay(to)) return true;
        const days = daysBetween(from, to) + 1;
        return days >= 1 && days <= MAX_RANGE_DAYS;
      },
      defaultMessage: () => `to must be on or after from, and the range at most ${MAX_RANGE_DAYS} days long`,
    },
  });

export class RangeQuery {
  @ApiProperty({ type: String, format: 'date', example: '2026-11-01', description: 'First day of the range' })
  @IsDay()
  from: Day;

  @ApiProperty({
    type: String,
    format: 'date',
    example: '2026-11-30',
    description: `Last day, included; at most ${MAX_RANGE_DAYS} days`,
  })
  @IsDay()
  @EndsWithinRange()
  to: Day;
}

export const MAX_EVENTS_REPORTED = 1000;

export class EventsQuery extends RangeQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_EVENTS_REPORTED, default: 100 })
  @IsOptional()
  @DecimalInteger()
  @IsInt()
  @Min(1)
  @Max(MAX_EVENTS_REPORTED)
  limit: number = 100;
}

export class EventNameParams {
  @ApiProperty({ pattern: EVENT_NAME.source, example: 'checkout.completed' })
  @Matches(EVENT_NAME, { message: `name must be an event name matching ${EVENT_NAME.source}` })
  name: string;
}

export class PeriodQuery extends RangeQuery {
  @ApiPropertyOptional({
    enum: ['day', 'week'],
    default: 'day',
    description: 'Weeks start on Monday; the periods are those that start within the range',
  })
  @IsOptional()
  @IsIn(['day', 'week'])
  interval: Interval = 'day';
}

export class FunnelQuery extends RangeQuery {
  @ApiProperty({
    type: String,
    example: 'signup.started,signup.completed,project.created',
    description: '2 to 10 different event names, comma-separated, in order',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',') : value))
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(10)
  @ArrayUnique()
  @Matches(EVENT_NAME, {
    each: true,
    message: `each step must be an event name matching ${EVENT_NAME.source}`,
  })
  steps: string[];

  @ApiPropertyOptional({
    default: 'P7D',
    example: 'PT30M',
    description:
      'Longest time from the first step to the last: an ISO 8601 duration of days, hours and minutes, at most P90D',
  })
  @IsOptional()
  @ValidateBy({
    name: 'isWindow',
    validator: {
      validate: (value: unknown) => {
        const ms = typeof value === 'string' ? durationMs(value) : undefined;
        return ms !== undefined && ms <= MAX_WINDOW_MS;
      },
      defaultMessage: () => 'window must be an ISO 8601 duration of days, hours and minutes, at most P90D',
    },
  })
  window: string = 'P7D';
}

export class ActiveUsersDayDto {
  @ApiProperty({ type: String, format: 'date' }) date: Day;
  @ApiProperty({ description: 'Users active on the day' }) dau: number;
  @ApiProperty({ description: 'Users active on the day or the 6 before' }) wau: number;
  @ApiProperty({ description: 'Users active on the day or the 29 before' }) mau: number;
  @ApiProperty({ description: 'dau / mau; 0 when mau is 0' }) stickiness: number;
}

export class ActiveUsersDto {
  @ApiProperty({ example: 'UTC' }) timezone: string;
  @ApiProperty({ type: [ActiveUsersDayDto] }) days: ActiveUsersDayDto[];
}

export class EventUseDto {
  @ApiProperty() name: string;
  @ApiProperty() count: number;
  @ApiProperty({ description: 'Distinct users who sent it' }) users: number;
  @ApiProperty({ description: 'Count in the period of the same length just before' }) previousCount: number;
  @ApiProperty({ type: Number, nullable: true, description: '(count − previousCount) / previousCount' })
  change: number | null;
}

export class EventsReportDto {
  @ApiProperty({ type: [EventUseDto], description: 'The `limit` most sent, most sent first' })
  items: EventUseDto[];
}

export class EventDayDto {
  @ApiProperty({ type: String, format: 'date' }) date: Day;
  @ApiProperty({ description: 'Events of the name that occurred on the day' }) count: number;
  @ApiProperty({ description: 'Distinct users who sent them' }) users: number;
}

export class EventDaysDto {
  @ApiProperty({ example: 'checkout.completed' }) name: string;
  @ApiProperty({ type: [EventDayDto], description: 'Every day of the range, oldest first' })
  days: EventDayDto[];
}

export class FunnelStepDto {
  @ApiProperty() name: string;
  @ApiProperty() users: number;
  @ApiProperty({ description: 'users / users of the first step' }) conversion: number;
  @ApiProperty({ description: 'Users of the step before who did not reach this one' }) dropOff: number;
}

export class FunnelDto {
  @ApiProperty({ type: [FunnelStepDto] }) steps: FunnelStepDto[];
}

export class CohortDto {
  @ApiProperty({ type: String, format: 'date' }) start: Day;
  @ApiProperty() size: number;
  @ApiProperty({ type: [Number], description: 'Members active in the cohort period + k' }) retained: number[];
}

export class RetentionDto {
  @ApiProperty({ type: [CohortDto] }) cohorts: CohortDto[];
}

export class LifecyclePeriodDto {
  @ApiProperty({ type: String, format: 'date' }) start: Day;
  @ApiProperty() new: number;
  @ApiProperty() returning: number;
  @ApiProperty() resurrecting: number;
  @ApiProperty() dormant: number;
}

export class LifecycleDto {
  @ApiProperty({ type: [LifecyclePeriodDto] }) periods: LifecyclePeriodDto[];
}

export class PeriodDto {
  @ApiProperty({ type: String, format: 'date' }) from: Day;
  @ApiProperty({ type: String, format: 'date' }) to: Day;
}

export class ComparedDto {
  @ApiProperty({ description: 'In the last 7 complete days' }) value: number;
  @ApiProperty({ description: 'In the 7 days before' }) previous: number;
  @ApiProperty({ type: Number, nullable: true, description: '(value − previous) / previous' }) change:
    number | null;
}

export class CohortRetentionDto {
  @ApiProperty({ type: String, format: 'date' }) cohortStart: Day;
  @ApiProperty({ description: 'Users whose first active day is in the 7 days before the last 7' })
  size: number;
  @ApiProperty({ description: 'Of those, active in the last 7 days' }) retained: number;
  @ApiProperty({ description: 'retained / size; 0 for an empty cohort' }) rate: number;
}

export class TasksSummaryDto {
  @ApiProperty({ description: 'Open manual tasks' }) open: number;
  @ApiProperty({ description: 'Open tasks past their due date' }) overdue: number;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'Median seconds from creation to a person’s decision, over the last 7 days',
  })
  medianSecondsToDecision: number | null;
}

export class SummaryDto {
  @ApiProperty() timezone: string;
  @ApiProperty({ type: PeriodDto, description: 'The last 7 complete days' }) period: PeriodDto;
  @ApiProperty({ type: PeriodDto }) previousPeriod: PeriodDto;
  @ApiProperty({ type: ComparedDto, description: 'Distinct active users' }) activeUsers: ComparedDto;
  @ApiProperty({ type: ComparedDto, description: 'Users active for the first time' }) newUsers: ComparedDto;
  @ApiProperty({ type: ComparedDto, description: 'Mean of the daily DAU / MAU' }) stickiness: ComparedDto;
  @ApiProperty({ type: CohortRetentionDto }) lastCohortRetention: CohortRetentionDto;
  @ApiProperty({ type: [EventUseDto], description: 'Up to 5, by change, among events sent in both periods' })
  growingEvents: EventUseDto[];
  @ApiProperty({ type: TasksSummaryDto, description: 'Manual tasks, now' }) tasks: TasksSummaryDto;
}
