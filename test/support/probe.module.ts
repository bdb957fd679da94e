import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '../../src/auth/access-policy.js';
import { IsInt, IsOptional, IsString, MaxLength, Min, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';

class ProbeTagDto {
  @IsString()
  @MaxLength(10)
  label: string;
}

class ProbeBodyDto {
  @IsString()
  @MaxLength(20)
  name: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  count?: number;

  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => ProbeTagDto)
  tags?: ProbeTagDto[];
}

/** Test-only routes that exercise the global pipeline: body parsing, validation, unexpected errors. */
@Public()
@Controller('test-probe')
class ProbeController {
  @Post('echo')
  echo(@Body() body: ProbeBodyDto) {
    return body;
  }

  constructor(private readonly dataSource: DataSource) {}

  @Get('conflict')
  async conflict(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query('CREATE TEMP TABLE probe_unique (id int PRIMARY KEY) ON COMMIT DROP');
      await manager.query('INSERT INTO probe_unique VALUES (1), (1)');
    });
  }

  @Get('statement-timeout')
  async statementTimeout(): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.query("SET LOCAL statement_timeout = '10ms'");
      await manager.query('SELECT pg_sleep(1)');
    });
  }

  @Get('boom')
  boom(): never {
    throw new Error('secret detail: password=hunter2 at /srv/app/internal.ts');
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
