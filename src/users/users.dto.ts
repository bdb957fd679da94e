import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import { PageQuery } from '../http/pagination.js';
import { EmptyIsAbsent } from '../http/validation.js';
import { PlainText, TextLength, TrimmedText } from '../http/text.js';

export class MeDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  username: string;

  @ApiPropertyOptional({ description: 'Present when the token carries it' })
  email?: string;

  @ApiProperty({ type: String, nullable: true })
  displayName: string | null;

  @ApiProperty({ type: [String], description: 'Cognito groups; `admin` is the back-office role' })
  groups: string[];

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class UpdateMeDto {
  @ApiPropertyOptional({
    type: String,
    minLength: 1,
    maxLength: 100,
    nullable: true,
    description: 'null clears it',
  })
  @IsOptional()
  @TrimmedText()
  @IsString()
  @TextLength(1, 100)
  @PlainText()
  displayName?: string | null;
}

export class AdminUserDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  username: string;

  @ApiProperty({ type: String, nullable: true })
  email: string | null;

  @ApiProperty({ type: String, nullable: true })
  displayName: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;
}

export class ListUsersQuery extends PageQuery {
  @ApiPropertyOptional({
    maxLength: 100,
    description: 'Case-insensitive prefix of the email, or of the username where it is not the Cognito sub',
  })
  @EmptyIsAbsent()
  @IsOptional()
  @IsString()
  @TextLength(0, 100)
  q?: string;
}
