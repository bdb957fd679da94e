import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Database } from '../../src/database/database.js';
import { createApp } from '../../src/app.js';
import { loadConfig, loadDatabaseConfig } from '../../src/config/config.js';
import { PROBLEM_TYPES, ProblemException } from '../../src/http/problem.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { createPgBoss } from '../../src/jobs/pg-boss.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { createJobProbeDatabase, JobProbeModule } from '../support/job-probe.module.js';
import { authEnv, user } from '../support/tokens.js';
import { until } from '../support/until.js';

/** The job runner: durable, done once across instances, retried with backoff, visible, enqueued with the change. */
describe('jobs', () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let [a, b]: TestApp[] = [];
  beforeAll(async () => {
    ({ db, sql } = await createJobProbeDatabase());
    [a, b] = await Promise.all(
      [0, 1].map(() => createTestApp({ databaseUrl: db.url, modules: [JobProbeModule] })),
    );
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await sql?.end();
    await db?.drop();
  });

  const recorded = async (queue: string) =>
    (
      await sql.query<{ id: string; at: Date }>('SELECT id, at FROM job_probe WHERE queue = $1 ORDER BY at', [
        queue,
      ])
    ).rows;

  it('does each job once, whichever of two instances takes it', async () => {
    const ids = Array.from({ length: 30 }, () => randomUUID());
    await Promise.all(
      ids.map((id, i) => (i % 2 ? a! : b!).app.get(JobRunner).enqueue('test.record', { id })),
    );
    await until(async () => (await recorded('test.record')).length >= ids.length);
    const done = (await recorded('test.record')).map(({ id }) => id);
    expect(done.sort()).toEqual([...ids].sort());
  });

  it('adds no second worker to a queue when a start that partly failed is retried', async () => {
    type Internals = { boss: { work: (...args: unknown[]) => Promise<string> }; start(): Promise<void> };
    const runner = a!.app.get<JobRunner, Internals>(JobRunner);
    const work = vi.spyOn(runner.boss, 'work');
    try {
      await runner.start();
      expect(work).not.toHaveBeenCalled();
    } finally {
      work.mockRestore();
    }
  });

  it('enqueues with the transaction it is in: a rolled-back change leaves no job', async () => {
    const [kept, dropped] = [randomUUID(), randomUUID()];
    const database = a!.app.get(Database);
    const jobs = a!.app.get(JobRunner);
    await database.transaction(() => jobs.enqueue('test.record', { id: kept }));
    await expect(
      database.transaction(async () => {
        await jobs.enqueue('test.record', { id: dropped });
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    await until(async () => (await recorded('test.record')).some(({ id }) => id === kept));
    const jobsOf = await sql.query("SELECT data->>'id' AS id FROM pgboss.job WHERE name = 'test.record'");
    expect(jobsOf.rows.map(({ id }) => id)).toContain(kept);
    expect(jobsOf.rows.map(({ id }) => id)).not.toContain(dropped);
  });

  it('keeps a listener on each instance, so that a job sent wakes a worker without waiting for a poll', async () => {
    const sessions = await sql.query<{ query: string }>(
      "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'runway-jobs'",
    );
    // The listener's last statement is its LISTEN or its heartbeat, which checks that LISTEN still holds.
    const listeners = sessions.rows.filter(({ query }) =>
      /^LISTEN |pg_listening_channels/.test(query.trim()),
    );
    expect(listeners).toHaveLength(2);
  });

  it('retries a failing job with growing, jittered delays until it succeeds', async () => {
    const id = randomUUID();
    await a!.app.get(JobRunner).enqueue('test.flaky', { id });
    await until(async () => (await recorded('test.flaky')).length >= 3);
    const attempts = (await recorded('test.flaky'))
      .filter((row) => row.id === id)
      .map(({ at }) => at.getTime());
    expect(attempts).toHaveLength(3);
    // Delays of at least 1 s, then 2 s (base 1 s doubling; the jitter only adds).
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(1_000);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(2_000);
    // The handler's row commits before the runner settles the job: wait for that too.
    const settled = async () =>
      (
        await sql.query<{ state: string; retry_count: number }>(
          "SELECT state, retry_count FROM pgboss.job WHERE name = 'test.flaky'",
        )
      ).rows[0];
    await until(async () => (await settled())?.state === 'completed');
    expect(await settled()).toEqual({ state: 'completed', retry_count: 2 });
  });

  it('shows counts by state and the failures with their error to admins', async () => {
    await b!.app.get(JobRunner).enqueue('test.broken', { id: randomUUID() });
    const failed = async () =>
      (await sql.query("SELECT 1 FROM pgboss.job WHERE name = 'test.broken' AND state = 'failed'"))
        .rowCount === 1;
    await until(failed);
    const response = await a!
      .http()
      .get('/v1/admin/jobs')
      .set('authorization', user({ groups: ['admin'] }).authorization);
    expect(response.status).toBe(200);
    const filtered = await a!
      .http()
      .get('/v1/admin/jobs?queue=test.broken')
      .set('authorization', user({ groups: ['admin'] }).authorization);
    expect([filtered.status, filtered.body.errors]).toEqual([
      400,
      [{ pointer: '/queue', detail: expect.any(String) }],
    ]);
    expect(response.body.queues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'test.broken', failed: 1 }),
        expect.objectContaining({ name: 'test.record' }),
      ]),
    );
    expect(response.body.failed).toEqual([
      expect.objectContaining({
        queue: 'test.broken',
        retries: 1,
        error: 'TypeError: the handler is broken',
      }),
    ]);
  });

  it('gives each job its whole expiry, however many are waiting', async () => {
    // Three jobs of 1.8 s under a 3 s expiry, visible at once: run one after another, they take 5.4 s.
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    // One after another: a transaction's statements share its connection.
    await a!.app.get(Database).transaction(async () => {
      for (const id of ids) await a!.app.get(JobRunner).enqueue('test.slow', { id, ms: 1_800 });
    });
    const jobs = async () =>
      (
        await sql.query<{ state: string; retry_count: number }>(
          "SELECT state, retry_count FROM pgboss.job WHERE name = 'test.slow'",
        )
      ).rows;
    await until(async () => (await jobs()).every(({ state }) => state === 'completed'));
    expect(await jobs()).toEqual(ids.map(() => ({ state: 'completed', retry_count: 0 })));
    expect((await recorded('test.slow')).map(({ id }) => id).sort()).toEqual([...ids].sort());
  });

  it("runs no job while the database lacks this version's migrations, and runs them once it has them", async () => {
    const { db: behind, sql: probe } = await createJobProbeDatabase();
    const [last] = (await probe.query('SELECT timestamp, name FROM migrations ORDER BY id DESC LIMIT 1'))
      .rows;
    await probe.query('DELETE FROM migrations WHERE name = $1', [last.name]);
    // An outbox job of the release still running, which declared its queue.
    const old = createPgBoss(loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: behind.url }));
    await old.start();
    await old.createQueue('test.record');
    await old.send('test.record', { id: 'of the old release' });
    await old.stop();
    const app = await createTestApp({
      databaseUrl: behind.url,
      env: { MIGRATE_ON_START: 'false' },
      modules: [JobProbeModule],
    });
    const ran = async () => (await probe.query('SELECT id FROM job_probe')).rowCount === 1;
    try {
      expect(await until(ran, { timeoutMs: 3_000 })).toBe(false);
      const { body } = await app.http().get('/health/ready').expect(503);
      expect(body.checks).toMatchObject({ migrations: { status: 'down' }, jobs: { status: 'down' } });
      // The migration step ran.
      await probe.query('INSERT INTO migrations (timestamp, name) VALUES ($1, $2)', [
        last.timestamp,
        last.name,
      ]);
      expect(await until(ran)).toBe(true);
      expect(await until(async () => (await app.http().get('/health/ready')).status === 200)).toBe(true);
    } finally {
      await app.close();
      await probe.end();
      await behind.drop();
    }
  });

  it('holds a job sent before its queue is declared (a first boot, a release adding it) until it is', async () => {
    const fresh = await createTestDatabase();
    const probe = new pg.Client({ connectionString: fresh.url });
    await probe.connect();
    await probe.query('CREATE TABLE job_probe (queue text, id text, at timestamptz)');
    // Queues cannot be declared while this lock is held; the app answers requests meanwhile.
    await probe.query('BEGIN; LOCK TABLE pgboss.queue IN SHARE ROW EXCLUSIVE MODE');
    const config = loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: fresh.url,
      ...authEnv(),
    });
    const app = await createApp(config, [JobProbeModule]);
    try {
      const early = await app
        .get(JobRunner)
        .enqueue('test.record', { id: 'early' })
        .catch((error) => error);
      expect(early).toBeInstanceOf(ProblemException);
      expect((early as ProblemException).getStatus()).toBe(503);
      expect((early as ProblemException).problem.type).toBe(PROBLEM_TYPES.notReady);

      const held = app.get(JobRunner).enqueue('test.record', { id: 'held' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await probe.query('COMMIT');
      await held;
      expect(await until(async () => (await probe.query('SELECT id FROM job_probe')).rowCount === 1)).toBe(
        true,
      );
      expect((await probe.query('SELECT id FROM job_probe')).rows).toEqual([{ id: 'held' }]);
    } finally {
      await probe.end(); // first: a lock still held would keep the app from closing
      await app.close();
      await fresh.drop();
    }
  });

  it('lets a job under way finish when the process stops', async () => {
    // A database of its own, so that the instance stopped is the only one that can take the job.
    const alone = await createTestDatabase();
    const probe = new pg.Client({ connectionString: alone.url });
    await probe.connect();
    await probe.query('CREATE TABLE job_probe (queue text, id text, at timestamptz)');
    const instance = await createTestApp({ databaseUrl: alone.url, modules: [JobProbeModule] });
    try {
      await instance.app.get(JobRunner).enqueue('test.record', { id: 'slow', ms: 1_500 });
      const active = async () =>
        ((await probe.query("SELECT 1 FROM pgboss.job WHERE name = 'test.record' AND state = 'active'"))
          .rowCount ?? 0) > 0;
      await until(active);
      await instance.close();
      expect((await probe.query('SELECT id FROM job_probe')).rows).toEqual([{ id: 'slow' }]);
      expect((await probe.query("SELECT state FROM pgboss.job WHERE name = 'test.record'")).rows).toEqual([
        { state: 'completed' },
      ]);
    } finally {
      await probe.end();
      await alone.drop();
    }
  });
});
