import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import pg from 'pg';
import { Database, sql } from '../../src/database/database.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/**
 * Test queues: `test.record` writes each job's id to job_probe (after `ms`); `test.slow` too, with a 3 s expiry;
 * `test.flaky` fails twice first; `test.broken` always.
 */
@Injectable()
class JobProbe implements OnModuleInit {
  constructor(
    private readonly jobs: JobRunner,
    private readonly db: Database,
  ) {}

  onModuleInit(): void {
    const record =
      (queue: string) =>
      async ({ id, ms = 0 }: { id: string; ms?: number }) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        await this.db.affected(
          sql`INSERT INTO job_probe (queue, id, at) VALUES (${queue}, ${id}, clock_timestamp())`,
        );
      };
    this.jobs.define({ queue: 'test.record', handle: record('test.record') });
    this.jobs.define({
      queue: 'test.slow',
      expireInSeconds: 3,
      retryDelaySeconds: 1,
      handle: record('test.slow'),
    });
    this.jobs.define({
      queue: 'test.flaky',
      retryDelaySeconds: 1,
      handle: async (data: { id: string }) => {
        await record('test.flaky')(data);
        const { count } = (await this.db.row<{ count: number }>(
          sql`SELECT count(*)::int AS count FROM job_probe WHERE queue = 'test.flaky' AND id = ${data.id}`,
        ))!;
        if (count < 3) throw new Error(`attempt ${count} fails on purpose`);
      },
    });
    this.jobs.define({
      queue: 'test.broken',
      retryLimit: 1,
      retryDelaySeconds: 1,
      handle: () => Promise.reject(new TypeError('the handler is broken')),
    });
  }
}

@Module({ providers: [JobProbe] })
export class JobProbeModule {}

/** A database of its own with the table the test queues write to, and a client of it to read that table. */
export async function createJobProbeDatabase(): Promise<{ db: TestDatabase; sql: pg.Client }> {
  const db = await createTestDatabase();
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  await sql.query('CREATE TABLE job_probe (queue text, id text, at timestamptz)');
  return { db, sql };
}
