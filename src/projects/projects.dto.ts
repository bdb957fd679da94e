import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { PageQuery } from '../http/pagination.js';
import { PlainText, TextLength, TrimmedText } from '../http/text.js';
import { Optional, StrictPartialType } from '../http/validation.js';
import { PROJECT_STATUSES, type ProjectStatus } from './project.entity.js';

export class CreateProjectDto {
  @ApiProperty({ minLength: 1, maxLength: 120, description: 'Unique among your projects' })
  @TrimmedText()
  @IsString()
  @TextLength(1, 120)
  @PlainText()
  name: string;

  @ApiPropertyOptional({ maxLength: 2000, default: '' })
  @Optional()
  @IsString()
  @TextLength(0, 2000)
  @PlainText({ lines: true })
  description?: string;

  @ApiPropertyOptional({ enum: PROJECT_STATUSES, default: 'active' })
  @Optional()
  @IsIn(PROJECT_STATUSES)
  status?: ProjectStatus;
}

/** Every field optional (but not null); `id`, `ownerId`, `version`, timestamps and anything else are refused (400). */
export class UpdateProjectDto extends StrictPartialType(CreateProjectDto) {}

export class ProjectDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  name: string;

  @ApiProperty()
  description: string;

  @ApiProperty({ enum: PROJECT_STATUSES })
  status: ProjectStatus;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt: string;

  @ApiProperty({
    description:
      'The ETag is this number in double quotes ("3"); send it in If-Match to update or delete safely',
  })
  version: number;
}

export class ListProjectsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: PROJECT_STATUSES })
  @IsOptional()
  @IsIn(PROJECT_STATUSES)
  status?: ProjectStatus;
}
