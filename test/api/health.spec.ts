import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../tools/dev/ports.js';
import { DrainState } from '../../src/health/drain-state.js';
import { PROBLEM_TYPES } from '../../src/http/problem.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { createMigrationDataSource } from '../../src/database/data-source.js';
import { runMigrations } from '../../src/database/migrator.js';
import { createTestApp, useTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { user } from '../support/tokens.js';
import { eventually, until } from '../support/until.js';

describe('health', () => {
  const t = useTestApp();

  it('live answers 200 without touching dependencies', async () => {
    const response = await t.http().get('/health/live');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'ok' });
  });

  it('ready answers 200 when the database answers and every migration is applied', async () => {
    const response = await t.http().get('/health/ready');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: { database: { status: 'up' }, migrations: { status: 'up' } },
    });
  });

  it('live stays 200 while the app shuts down', async () => {
    const app = await createTestApp({ databaseUrl: t.db.url });
    const closing = app.close();
    try {
      // Nest's shutdown hooks have run (Terminus now refuses its checks); the server still answers.
      await new Promise((resolve) => setImmediate(resolve));
      const response = await app.http().get('/health/live');
      expect(response.status).toBe(200);
    } finally {
      await closing;
    }
  });

  it('ready says no more than "unreachable" when the database fails, whatever the driver said', async () => {
    const failing = vi
      .spyOn(t.app.get(DataSource), 'query')
      .mockRejectedValueOnce(new Error('connect ECONNREFUSED 10.0.0.12:5432 for user "runway_admin"'));
    try {
      const response = await t.http().get('/health/ready');
      expect(response.status).toBe(503);
      expect(response.body.checks.database).toMatchObject({ status: 'down', message: 'unreachable' });
      expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|10\.0\.0\.12|runway_admin/);
    } finally {
      failing.mockRestore();
    }
  });

  it('ready answers 503 problem+json while draining', async () => {
    const drain = t.app.get(DrainState);
    drain.draining = true;
    try {
      const response = await t.http().get('/health/ready');
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBeDefined();
    } finally {
      drain.draining = false;
    }
  });

  describe('with a database not migrated for this version (MIGRATE_ON_START=false)', () => {
    let db: TestDatabase;
    let unmigrated: TestApp;
    const caller = user();
    beforeAll(async () => {
      db = await createTestDatabase({ empty: true });
      unmigrated = await createTestApp({ databaseUrl: db.url, env: { MIGRATE_ON_START: 'false' } });
      await eventually(async () => {
        const { body } = await unmigrated.http().get('/health/ready');
        return body.checks?.migrations?.pending;
      });
    });
    afterAll(async () => {
      await unmigrated?.close();
      await db?.drop();
    });

    it('ready counts the pending migrations, without naming them', async () => {
      const response = await unmigrated.http().get('/health/ready');
      expect(response.status).toBe(503);
      expect(response.body.checks.migrations).toEqual({ status: 'down', pending: MIGRATIONS.length });
      expect(JSON.stringify(response.body)).not.toMatch(/Create/);
    });

    it('answers requests 503 not-ready with Retry-After, not 500, then serves them once migrated', async () => {
      const response = await unmigrated.http().get('/v1/me').set('authorization', caller.authorization);
      expect(response.status).toBe(503);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body).toMatchObject({ type: PROBLEM_TYPES.notReady, status: 503 });

      const migrations = await createMigrationDataSource(unmigrated.config.database).initialize();
      try {
        await runMigrations(migrations);
      } finally {
        await migrations.destroy();
      }
      await eventually(async () => {
        const { status } = await unmigrated.http().get('/v1/me').set('authorization', caller.authorization);
        return status === 503 ? undefined : status;
      }).then((status) => expect(status).toBe(200));
      // Once the job runner, which waits for the migrations too, has started (it asks as often as requests do).
      expect(await until(async () => (await unmigrated.http().get('/health/ready')).status === 200)).toBe(
        true,
      );
    });
  });

  describe('with the database unreachable (wrong port)', () => {
    let unreachable: TestApp;
    beforeAll(async () => {
      const url = new URL(t.db.url);
      url.port = String(await freePort());
      unreachable = await createTestApp({
        databaseUrl: url.toString(),
        env: { MIGRATE_ON_START: 'false', DB_CONNECT_TIMEOUT_MS: '500' },
      });
    });
    afterAll(async () => {
      await unreachable?.close();
    });

    it('still starts, and live stays 200', async () => {
      expect((await unreachable.http().get('/health/live')).status).toBe(200);
    });

    it('ready answers 503 with the failing checks', async () => {
      const response = await unreachable.http().get('/health/ready');
      expect(response.status).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.body).toMatchObject({
        type: PROBLEM_TYPES.notReady,
        status: 503,
        checks: { database: { status: 'down' } },
      });
    });
  });
});
