import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ValidateIf } from 'class-validator';
import type { Day } from './days.js';
import { EndsWithinRange, IsDay, MAX_RANGE_DAYS } from './insights.query.js';

/** The events a user's activity shows at most. */
export const LATEST_EVENTS = 100;
/** The range asked when neither end is given: this many days, today included. */
export const DEFAULT_ACTIVITY_DAYS = 30;

const givenEither = (query: ActivityQuery) => query.from !== undefined || query.to !== undefined;

/** Both ends of the range, or neither. */
export class ActivityQuery {
  @ApiPropertyOptional({
    type: String,
    format: 'date',
    example: '2026-11-01',
    description: `First day of the range; give both ends or neither (the last ${DEFAULT_ACTIVITY_DAYS} days, today included)`,
  })
  @ValidateIf(givenEither)
  @IsDay()
  from?: Day;

  @ApiPropertyOptional({
    type: String,
    format: 'date',
    example: '2026-11-30',
    description: `Last day, included; at most ${MAX_RANGE_DAYS} days`,
  })
  @ValidateIf(givenEither)
  @IsDay()
  @EndsWithinRange()
  to?: Day;
}

export class ActivityEventDto {
  @ApiProperty({ example: 'checkout.completed' }) name: string;
  @ApiProperty({ format: 'date-time' }) occurredAt: string;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true })
  properties: Record<string, unknown> | null;
}

export class UserActivityDto {
  @ApiProperty({ format: 'uuid' }) userId: string;

  @ApiProperty({
    type: 'array',
    items: { type: 'string', format: 'date' },
    description: 'Days of the range the user was active on, oldest first',
  })
  days: Day[];

  @ApiProperty({
    type: [ActivityEventDto],
    description: `The user's latest ${LATEST_EVENTS} events of the range, newest first; events are kept ANALYTICS_RETENTION_DAYS`,
  })
  events: ActivityEventDto[];
}
