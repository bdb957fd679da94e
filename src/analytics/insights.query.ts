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
  @ArrayUnique({ message: 'steps must name each event once' })
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
