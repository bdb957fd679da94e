import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { Optional } from '../http/validation.js';
import { PageQuery } from '../http/pagination.js';
import { PROJECT_STATUSES, type ProjectStatus } from './project.entity.js';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateProjectDto {
  @ApiProperty({ minLength: 1, maxLength: 120, description: 'Unique among your projects' })
  @Transform(trim)
  @IsString()
  @Length(1, 120)
  name: string;

  @ApiPropertyOptional({ maxLength: 2000, default: '' })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ enum: PROJECT_STATUSES, default: 'active' })
  @Optional()
  @IsIn(PROJECT_STATUSES)
  status?: ProjectStatus;
}

/** Every field optional; `id`, `ownerId`, `version`, timestamps and anything else are refused (400). */
export class UpdateProjectDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 120 })
  @Optional()
  @Transform(trim)
  @IsString()
  @Length(1, 120)
  name?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @Optional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiPropertyOptional({ enum: PROJECT_STATUSES })
  @Optional()
  @IsIn(PROJECT_STATUSES)
  status?: ProjectStatus;
}

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

  @ApiProperty({ description: 'Also the ETag; send it back in If-Match to update or delete safely' })
  version: number;
}

export class ListProjectsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: PROJECT_STATUSES })
  @IsOptional()
  @IsIn(PROJECT_STATUSES)
  status?: ProjectStatus;
}
