import { ApiProperty } from '@nestjs/swagger';
import type { Day } from './days.js';

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
