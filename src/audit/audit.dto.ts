import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageQuery } from '../http/pagination.js';
import { EmptyIsAbsent, LowerCaseUuid } from '../http/validation.js';

const ACTION = /^[a-z][a-z0-9_.]{0,63}$/;

export class ListAuditQuery extends PageQuery {
  @ApiPropertyOptional({
    maxLength: 320,
    description: "The actor's id: a user id, a machine client id or an email address",
  })
  @EmptyIsAbsent()
  @IsOptional()
  @IsString()
  @MaxLength(320)
  @LowerCaseUuid()
  actor?: string;

  @ApiPropertyOptional({ pattern: ACTION.source, example: 'task.decided' })
  @EmptyIsAbsent()
  @IsOptional()
  @Matches(ACTION, { message: 'action must be an action name such as task.decided' })
  action?: string;

  @ApiPropertyOptional({
    maxLength: 200,
    description: "The target's id, such as a task id: that task's history",
  })
  @EmptyIsAbsent()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @LowerCaseUuid()
  target?: string;
}

class AuditActorDto {
  @ApiProperty({ enum: ['user', 'machine', 'email', 'system'] })
  kind: 'user' | 'machine' | 'email' | 'system';

  @ApiProperty({ description: 'User id, machine client id, email address, or the system job' })
  id: string;
}

class AuditTargetDto {
  @ApiProperty({ example: 'task' })
  type: string;

  @ApiProperty()
  id: string;
}

export class AuditEntryDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'date-time' })
  at: string;

  @ApiProperty({ type: AuditActorDto })
  actor: AuditActorDto;

  @ApiProperty({ example: 'task.decided' })
  action: string;

  @ApiProperty({ type: AuditTargetDto })
  target: AuditTargetDto;

  @ApiProperty({ enum: ['api', 'email', 'system'] })
  via: 'api' | 'email' | 'system';

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'What changed (outcome, comment…)',
  })
  details: Record<string, unknown>;
}
