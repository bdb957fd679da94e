import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Public } from '../../src/auth/access-policy.js';
import { Database, sql } from '../../src/database/database.js';
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

  constructor(
    private readonly dataSource: DataSource,
    private readonly db: Database,
  ) {}

  /** Two transactions that take two locks in opposite orders: PostgreSQL aborts one, which the app runs again. */
  @Get('deadlock')
  async deadlock(): Promise<{ attempts: number[] }> {
    const attempts = [0, 0];
    const holding = [Promise.withResolvers<void>(), Promise.withResolvers<void>()];
    const lockInTurn = (side: 0 | 1) =>
      this.db.transaction(async () => {
        attempts[side]!++;
        const [first, second] = side === 0 ? [101, 102] : [102, 101];
        await this.db.rows(sql`SELECT pg_advisory_xact_lock(${first})`);
        holding[side]!.resolve();
        await holding[1 - side]!.promise;
        await this.db.rows(sql`SELECT pg_advisory_xact_lock(${second})`);
      });
    await Promise.all([lockInTurn(0), lockInTurn(1)]);
    return { attempts };
  }

  /** A transaction that never gets through: every attempt fails to serialize. */
  @Get('serialization-failure')
  async serializationFailure(): Promise<void> {
    await this.db.transaction(() =>
      this.db.rows(sql`DO $$ BEGIN RAISE EXCEPTION 'probe' USING ERRCODE = 'serialization_failure'; END $$`),
    );
  }

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

  /** A value PostgreSQL refuses, and quotes in its message: `invalid input syntax for type uuid: "…"`. */
  @Get('bad-uuid')
  async badUuid(): Promise<void> {
    await this.db.rows(sql`SELECT ${'not-a-uuid: secret-value'}::uuid`);
  }

  @Get('boom')
  boom(): never {
    throw new Error('secret detail: password=hunter2 at /srv/app/internal.ts');
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
