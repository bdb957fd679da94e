import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseIdleness } from '../../src/database/database-idleness.js';
import { FaultProxy } from '../../tools/faults/proxy.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { JOBS_SCHEMA } from '../../src/jobs/pg-boss.js';
import { createTestApp, type TestApp } from '../support/app.js';
import type { TestDatabase } from '../support/database.js';
import { createJobProbeDatabase, JobProbeModule } from '../support/job-probe.module.js';
import { user } from '../support/tokens.js';
import { until } from '../support/until.js';

/** DB_IDLE_SLEEP_SECONDS: with no request needing the database, the app leaves it without connections of its own. */
describe('database idleness', () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let app: TestApp;
  beforeAll(async () => {
    ({ db, sql } = await createJobProbeDatabase());
    app = await createTestApp({
      databaseUrl: db.url,
      env: { DB_IDLE_SLEEP_SECONDS: '1' },
      modules: [JobProbeModule],
    });
  });
  afterAll(async () => {
    await app?.close();
    await sql?.end();
    await db?.drop();
  });

  const jobConnections = async () =>
    (
      await sql.query<{ count: number }>(
        "SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'runway-jobs'",
      )
    ).rows[0]!.count;
  const recorded = async (id: string) =>
    (await sql.query('SELECT 1 FROM job_probe WHERE id = $1', [id])).rowCount === 1;
  const asleep = async () => {
    const idleness = app.app.get(DatabaseIdleness);
    if (!(await until(() => Promise.resolve(idleness.asleep)))) return false;
    await app.app.get(JobRunner).settled();
    return true;
  };

  it('stops the job runner after a quiet second and closes its connections; readiness still answers', async () => {
    // Awake first, however long the app took to get here: requests that need the database keep it so.
    const awake = await until(async () => {
      await app.http().get('/v1/me').set('Authorization', user().authorization).expect(200);
      return (await jobConnections()) > 0;
    });
    expect(awake).toBe(true);
    expect(await asleep()).toBe(true);
    // A PostgreSQL backend leaves pg_stat_activity when it has exited, a moment after its client closed.
    expect(await until(async () => (await jobConnections()) === 0)).toBe(true);

    // Health checks work without waking anything (the load balancer's must not keep the database up).
    const ready = await app.http().get('/health/ready');
    expect(ready.status).toBe(200);
    await app.http().get('/health/live').expect(200);
    expect(app.app.get(DatabaseIdleness).asleep).toBe(true);
  });

  it('keeps what is enqueued meanwhile and runs it once a request needs the database', async () => {
    expect(await asleep()).toBe(true);
    const id = randomUUID();
    await app.app.get(JobRunner).enqueue('test.record', { id });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await recorded(id)).toBe(false);

    await app.http().get('/v1/me').set('Authorization', user().authorization).expect(200);
    expect(app.app.get(DatabaseIdleness).asleep).toBe(false);
    // A request before each look keeps the app awake while it looks: it sleeps again after a quiet second.
    const ran = await until(async () => {
      await app.http().get('/v1/me').set('Authorization', user().authorization).expect(200);
      return (await recorded(id)) && (await jobConnections()) > 0;
    });
    expect(ran).toBe(true);
  });

  it('answers not ready while the job runner fails to start again after a wake, and ready once it starts', async () => {
    expect(await asleep()).toBe(true);
    const readiness = () => app.http().get('/health/ready');
    const { rows } = await sql.query<{ version: number }>(`SELECT version FROM ${JOBS_SCHEMA}.version`);
    // pg-boss refuses to start on a schema version it cannot migrate from.
    await sql.query(`UPDATE ${JOBS_SCHEMA}.version SET version = 1`);
    try {
      await app.http().get('/v1/me').set('Authorization', user().authorization).expect(200);
      expect(await until(async () => (await readiness()).status === 503)).toBe(true);
      const body = (await readiness()).body as { checks: Record<string, { status: string }> };
      expect(body.checks.jobs?.status).toBe('down');
    } finally {
      await sql.query(`UPDATE ${JOBS_SCHEMA}.version SET version = $1`, [rows[0]!.version]);
    }
    expect(await until(async () => (await readiness()).status === 200)).toBe(true);
  });

  it('does not wake for requests no route answers', async () => {
    expect(await asleep()).toBe(true);
    await app.http().get('/wp-login.php').expect(404);
    await app.http().post('/v1/no-such-route').expect(404);
    expect(app.app.get(DatabaseIdleness).asleep).toBe(true);
  });
});

type Checks = Record<string, { status: string }>;

describe('database idleness, when the database stops answering as the app goes to sleep', () => {
  let db: TestDatabase;
  let sql: pg.Client;
  let proxy: FaultProxy;
  let app: TestApp;
  // A database and an app each: the runner a test gave up on may go on working once the database answers again, and
  // would take the next test's job.
  beforeEach(async () => {
    ({ db, sql } = await createJobProbeDatabase());
    const url = new URL(db.url);
    proxy = await FaultProxy.start({ host: url.hostname, port: Number(url.port) });
    url.hostname = proxy.address.host;
    url.port = String(proxy.address.port);
    app = await createTestApp({
      databaseUrl: url.toString(),
      env: { DB_IDLE_SLEEP_SECONDS: '1', DB_STATEMENT_TIMEOUT_MS: '1000', DB_CONNECT_TIMEOUT_MS: '1000' },
      modules: [JobProbeModule],
    });
  });
  afterEach(async () => {
    await sql?.end();
    await proxy?.stop();
    await db?.drop();
  });

  const jobsAre = (status: 'up' | 'down') =>
    until(
      async () => {
        // 200 gives the checks as `details`, 503 as `checks`.
        const { body } = (await app.http().get('/health/ready')) as {
          body: Record<string, Checks | undefined>;
        };
        return (body.details ?? body.checks)?.jobs?.status === status;
      },
      { everyMs: 500 },
    );
  const recorded = async (id: string) =>
    (await sql.query('SELECT 1 FROM job_probe WHERE id = $1', [id])).rowCount === 1;

  const activeJobs = async () =>
    (await sql.query(`SELECT 1 FROM ${JOBS_SCHEMA}.job WHERE state = 'active'`)).rowCount!;

  /**
   * The database stops answering while a job runs: the runner's stop, as the app goes to sleep, waits for the job,
   * whose end pg-boss records over a connection that never answers, so the stop never ends. It is given up on after
   * 11 s, the job still active.
   */
  const stopHeldByABlackHole = async () => {
    await app.http().get('/v1/me').set('Authorization', user().authorization).expect(200);
    // Long enough to be still running when the black hole begins, however slowly the machine polls.
    await app.app.get(JobRunner).enqueue('test.record', { id: randomUUID(), ms: 5_000 });
    expect(await until(async () => (await activeJobs()) > 0)).toBe(true);
    proxy.setMode({ kind: 'blackhole' });
    expect(await until(() => Promise.resolve(app.app.get(DatabaseIdleness).asleep))).toBe(true);
    await app.app.get(JobRunner).settled();
    expect(await activeJobs()).toBeGreaterThan(0);
  };

  it('is ready once the database answers again while asleep, and a wake starts a new job runner', async () => {
    await stopHeldByABlackHole();
    proxy.setMode({ kind: 'pass' });
    // Asleep, no runner is expected: the next wake makes a new one. Readiness does not wake it (the canary asks it
    // first, and the database may be left to pause).
    const ready = await until(async () => (await app.http().get('/health/ready')).status === 200, {
      everyMs: 500,
    });
    expect(ready).toBe(true);
    expect(app.app.get(DatabaseIdleness).asleep).toBe(true);
    // Its frozen connections stay so (until TCP keepalive gives up on them, minutes later). A job is still added
    // meanwhile, and the next request starts a new runner, which does not wait for them. The app's own pool may first
    // hand out a connection frozen meanwhile (an error, and that connection is closed), for a job as for a request.
    const id = randomUUID();
    const enqueue = () =>
      app.app
        .get(JobRunner)
        .enqueue('test.record', { id })
        .then(
          () => true,
          () => false,
        );
    expect(await until(enqueue, { everyMs: 500 })).toBe(true);
    const caller = user();
    const answered = await until(
      async () => (await app.http().get('/v1/me').set('Authorization', caller.authorization)).status === 200,
      { everyMs: 500 },
    );
    expect(answered).toBe(true);
    expect(await jobsAre('up')).toBe(true);
    expect(await until(() => recorded(id))).toBe(true);
  }, 120_000);

  it('still shuts down after a stop given up on, its wait bounded', async () => {
    await stopHeldByABlackHole();
    // A request wakes the runner, whose start cannot reach the database; the shutdown does not wait for it for long.
    await app.http().get('/v1/me').set('Authorization', user().authorization);
    await app.close();
  }, 120_000);
});
