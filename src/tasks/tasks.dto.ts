import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsObject, IsString, Matches } from 'class-validator';
import { PageQuery } from '../http/pagination.js';
import { PlainText, TextLength, TrimmedText } from '../http/text.js';
import { EmptyIsAbsent, IsId, Optional } from '../http/validation.js';
import { TASK_STATUSES, type OperatorOutcome, type TaskOutcome, type TaskStatus } from './task-types.js';

export const TASK_TYPE_NAME = /^[a-z][a-z0-9_.:-]{0,63}$/;
export const MAX_PAYLOAD_BYTES = 16 * 1024;
const TIMESTAMP = { strict: true, strictSeparator: true } as const;
/** A date-time with its offset: without one, the server's own time zone would decide what it means. */
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
const instantWithOffset = (field: string) =>
  Matches(WITH_OFFSET, {
    message: `${field} must be a date-time with an offset, such as 2026-12-05T10:00:00Z`,
  });

export class CreateTaskDto {
  @ApiProperty({
    pattern: TASK_TYPE_NAME.source,
    example: 'approval',
    description: 'A type registered in code; an unknown type is a 422',
  })
  @Matches(TASK_TYPE_NAME, { message: 'type must be a task type name such as approval' })
  type: string;

  @ApiProperty({ minLength: 1, maxLength: 200 })
  @TrimmedText()
  @IsString()
  @TextLength(1, 200)
  @PlainText()
  title: string;

  @ApiPropertyOptional({ maxLength: 4000, default: '' })
  @Optional()
  @IsString()
  @TextLength(0, 4000)
  @PlainText({ lines: true })
  description?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'At most 16 KiB serialized; checked by the type',
  })
  @Optional()
  @IsObject()
  payload?: Record<string, unknown>;

  @ApiPropertyOptional({ format: 'uuid', description: 'The user the work is for' })
  @Optional()
  @IsId()
  subjectUserId?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Default: the type’s time to decide (24 h)' })
  @Optional()
  @IsISO8601(TIMESTAMP)
  @instantWithOffset('dueAt')
  dueAt?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Expires (and the workflow is told) at this time',
  })
  @Optional()
  @IsISO8601(TIMESTAMP)
  @instantWithOffset('expiresAt')
  expiresAt?: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 2048,
    description: 'A Step Functions task token: resumed on decision. Stored encrypted, never returned.',
  })
  @Optional()
  @IsString()
  @TextLength(1, 2048)
  taskToken?: string;
}

export class DecisionDto {
  @ApiProperty({ enum: ['approved', 'rejected'] })
  @IsIn(['approved', 'rejected'])
  outcome: OperatorOutcome;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @TextLength(0, 2000)
  @PlainText({ lines: true })
  comment?: string;
}

export class CancelDto {
  @ApiProperty({ minLength: 1, maxLength: 2000 })
  @TrimmedText()
  @IsString()
  @TextLength(1, 2000)
  @PlainText({ lines: true })
  reason: string;
}

export class ListTasksQuery extends PageQuery {
  @ApiPropertyOptional({ enum: TASK_STATUSES, default: 'open' })
  @Optional()
  @IsIn(TASK_STATUSES)
  status: TaskStatus = 'open';

  @ApiPropertyOptional({ pattern: TASK_TYPE_NAME.source })
  @EmptyIsAbsent()
  @Optional()
  @Matches(TASK_TYPE_NAME, { message: 'type must be a task type name such as approval' })
  type?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "The operator's user id" })
  @EmptyIsAbsent()
  @Optional()
  @IsId()
  assignee?: string;
}

class CreatedByDto {
  @ApiProperty({ enum: ['user', 'machine', 'system'] })
  kind: 'user' | 'machine' | 'system';

  @ApiProperty({ description: 'User id, machine client id, or the feature that created it' })
  id: string;
}

class TaskDecisionDto {
  @ApiProperty({ enum: ['approved', 'rejected', 'cancelled', 'expired'] })
  outcome: TaskOutcome;

  @ApiProperty({ type: String, nullable: true })
  comment: string | null;

  @ApiProperty({ description: "The operator's email (or name), the recipient of the link, or system" })
  decidedBy: string;

  @ApiProperty({ format: 'date-time' })
  decidedAt: string;

  @ApiProperty({ enum: ['api', 'email', 'system'] })
  via: 'api' | 'email' | 'system';
}

class TaskCallbackDto {
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] })
  status: 'pending' | 'delivered' | 'failed';

  @ApiProperty({ type: String, nullable: true, description: 'Why delivery failed for good (TaskTimedOut…)' })
  reason: string | null;
}

export class TaskDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  type: string;

  @ApiProperty()
  title: string;

  @ApiProperty()
  description: string;

  @ApiProperty({ type: 'object', additionalProperties: true })
  payload: Record<string, unknown>;

  @ApiProperty({ enum: TASK_STATUSES })
  status: TaskStatus;

  @ApiProperty({ type: String, nullable: true, format: 'uuid' })
  subjectUserId: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: "The operator's user id" })
  assignee: string | null;

  @ApiProperty({ format: 'date-time' })
  dueAt: string;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  expiresAt: string | null;

  @ApiProperty({ type: CreatedByDto })
  createdBy: CreatedByDto;

  @ApiProperty({ type: TaskDecisionDto, nullable: true, description: 'null while open' })
  decision: TaskDecisionDto | null;

  @ApiProperty({
    type: TaskCallbackDto,
    nullable: true,
    description: 'The Step Functions callback; null without a task token',
  })
  callback: TaskCallbackDto | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({ description: 'The ETag is this number in double quotes ("3"); send it in If-Match' })
  version: number;
}
