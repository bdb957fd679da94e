import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DataSource } from 'typeorm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardAnalyticsCounters1796024000000 } from '../../migrations/1796024000000-ShardAnalyticsCounters.js';
import { loadDatabaseConfig } from '../../src/config/config.js';
import { createMigrationDataSource, dataSourceOptions } from '../../src/database/data-source.js';
import { MIGRATION_LOCK_KEY } from '../../src/database/database.repository.js';
import { pendingMigrations, revertLastMigration, runMigrations } from '../../src/database/migrator.js';
import { createTestDatabase, someoneWaitsForLock, type TestDatabase } from '../support/database.js';

class CreateWidgets1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner) {
    // Slow on purpose: the other runner must wait on the advisory lock, not race this one.
    await runner.query('SELECT pg_sleep(0.5)');
    await runner.query('CREATE TABLE widgets (id int PRIMARY KEY)');
  }
  async down(runner: QueryRunner) {
    await runner.query('DROP TABLE widgets');
  }
}

class AddWidgetName1700000000001 implements MigrationInterface {
  async up(runner: QueryRunner) {
    await runner.query('ALTER TABLE widgets ADD COLUMN name text');
  }
  async down(runner: QueryRunner) {
    await runner.query('ALTER TABLE widgets DROP COLUMN name');
  }
}

describe('runMigrations', () => {
  let db: TestDatabase;
  const sources: DataSource[] = [];

  function dataSource(): DataSource {
    const database = loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: db.url });
    const source = new DataSource({
      ...dataSourceOptions(database),
      migrations: [CreateWidgets1700000000000, AddWidgetName1700000000001],
    });
    sources.push(source);
    return source;
  }

  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => {
    await Promise.all(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
    await db?.drop();
  });

  it('applies each migration exactly once when several instances migrate at the same time', async () => {
    const runners = await Promise.all([dataSource(), dataSource(), dataSource()].map((s) => s.initialize()));
    const applied = await Promise.all(runners.map((source) => runMigrations(source)));

    expect(applied.flat().sort()).toEqual(['AddWidgetName1700000000001', 'CreateWidgets1700000000000']);
    expect(applied.filter((names) => names.length > 0)).toHaveLength(1);
    const rows: { name: string }[] = await runners[0]!.query('SELECT name FROM migrations ORDER BY id');
    expect(rows.map((row) => row.name)).toEqual(['CreateWidgets1700000000000', 'AddWidgetName1700000000001']);
  });

  it('reports nothing pending afterwards, and applies nothing on a second run', async () => {
    const source = await dataSource().initialize();
    expect(await pendingMigrations(source)).toEqual([]);
    expect(await runMigrations(source)).toEqual([]);
  });

  it('reports every migration pending on an empty database', async () => {
    const empty = await createTestDatabase({ empty: true });
    try {
      const database = loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: empty.url });
      const source = new DataSource({
        ...dataSourceOptions(database),
        migrations: [CreateWidgets1700000000000, AddWidgetName1700000000001],
      });
      await source.initialize();
      expect(await pendingMigrations(source)).toEqual([
        'CreateWidgets1700000000000',
        'AddWidgetName1700000000001',
      ]);
      await source.destroy();
    } finally {
      await empty.drop();
    }
  });
});

/** As an Aurora failover or a network drop would: the session is cut while the migration runs. */
class LoseConnection1700000000002 implements MigrationInterface {
  async up(runner: QueryRunner) {
    await runner.query('CREATE TABLE half_done (id int)');
    await runner.query('SELECT pg_terminate_backend(pg_backend_pid())');
  }
  async down() {}
}

describe('a migration whose connection is lost', () => {
  it('keeps TCP keepalive on its connections, as the app does: a server that stops answering is found', () => {
    const { extra } = createMigrationDataSource(
      loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: 'postgres://a@127.0.0.1/b' }),
    ).options as { extra: Record<string, unknown> };
    expect(extra).toMatchObject({ keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
  });

  it('is reported by name with its own error, not the failed rollback, and applied nowhere', async () => {
    const lost = await createTestDatabase({ empty: true });
    const database = loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: lost.url });
    const source = new DataSource({
      ...dataSourceOptions(database),
      migrations: [LoseConnection1700000000002],
    });
    try {
      await source.initialize();
      const failure = (await runMigrations(source).catch((error: unknown) => error)) as Error;
      expect(failure.message).toMatch(/^LoseConnection1700000000002 failed: /);
      expect(String((failure.cause as Error).stack)).toContain('LoseConnection1700000000002.up');
      expect(await pendingMigrations(source)).toEqual(['LoseConnection1700000000002']);
      expect(await source.query(`SELECT to_regclass('half_done') AS "table"`)).toEqual([{ table: null }]);
    } finally {
      await source.destroy();
      await lost.drop();
    }
  });
});

class CreateGadgets1700000000000 implements MigrationInterface {
  async up(runner: QueryRunner) {
    await runner.query('CREATE TABLE gadgets (id int PRIMARY KEY, size int)');
  }
  async down(runner: QueryRunner) {
    await runner.query('DROP TABLE gadgets');
  }
}

class IndexGadgetSizes1700000000001 implements MigrationInterface {
  transaction = false;
  async up(runner: QueryRunner) {
    await runner.query('CREATE INDEX CONCURRENTLY ix_gadgets_size ON gadgets (size)');
  }
  async down(runner: QueryRunner) {
    await runner.query('DROP INDEX CONCURRENTLY ix_gadgets_size');
  }
}

class AddGadgetColour1700000000002 implements MigrationInterface {
  async up(runner: QueryRunner) {
    await runner.query('ALTER TABLE gadgets ADD COLUMN colour text');
  }
  async down(runner: QueryRunner) {
    await runner.query('ALTER TABLE gadgets DROP COLUMN colour');
  }
}

describe('migrations and the locks of a running release', () => {
  let db: TestDatabase;
  let source: DataSource;
  const quickly = { timeoutMs: 100, attempts: 100, retryDelayMs: 20 };
  const applied = async () =>
    (await source.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id')).map((r) => r.name);

  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
    source = new DataSource({
      ...dataSourceOptions(loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: db.url })),
      migrations: [CreateGadgets1700000000000, IndexGadgetSizes1700000000001, AddGadgetColour1700000000002],
    });
    await source.initialize();
    await runMigrations(source, undefined, quickly);
  });
  afterAll(async () => {
    if (source?.isInitialized) await source.destroy();
    await db?.drop();
  });

  it('runs a migration that says transaction = false outside a transaction (CREATE INDEX CONCURRENTLY)', async () => {
    expect(await applied()).toEqual([
      'CreateGadgets1700000000000',
      'IndexGadgetSizes1700000000001',
      'AddGadgetColour1700000000002',
    ]);
    const [index] = await source.query(
      `SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_gadgets_size'::regclass`,
    );
    expect(index).toEqual({ indisvalid: true });
  });

  it('reverts the last migration, one at a time, whatever its transaction mode, then says there is none', async () => {
    expect(await revertLastMigration(source, quickly)).toBe('AddGadgetColour1700000000002');
    expect(await revertLastMigration(source, quickly)).toBe('IndexGadgetSizes1700000000001');
    expect(await source.query(`SELECT to_regclass('ix_gadgets_size') AS index`)).toEqual([{ index: null }]);
    expect(await revertLastMigration(source, quickly)).toBe('CreateGadgets1700000000000');
    expect(await revertLastMigration(source, quickly)).toBeUndefined();
    expect(await runMigrations(source, undefined, quickly)).toHaveLength(3);
  });

  it('reverts the migration applied last, even one named for an earlier time (merged late)', async () => {
    await revertLastMigration(source, quickly);
    await revertLastMigration(source, quickly);
    const withoutIndex = new DataSource({
      ...dataSourceOptions(loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: db.url })),
      migrations: [CreateGadgets1700000000000, AddGadgetColour1700000000002],
    });
    await withoutIndex.initialize();
    try {
      expect(await runMigrations(withoutIndex, undefined, quickly)).toEqual(['AddGadgetColour1700000000002']);
    } finally {
      await withoutIndex.destroy();
    }
    expect(await runMigrations(source, undefined, quickly)).toEqual(['IndexGadgetSizes1700000000001']);
    expect(await revertLastMigration(source, quickly)).toBe('IndexGadgetSizes1700000000001');
    expect(await revertLastMigration(source, quickly)).toBe('AddGadgetColour1700000000002');
    expect(await runMigrations(source, undefined, quickly)).toEqual([
      'IndexGadgetSizes1700000000001',
      'AddGadgetColour1700000000002',
    ]);
  });

  it('stops waiting for a lock when asked to stop, with nothing of the migration applied', async () => {
    await revertLastMigration(source, quickly);
    const longTransaction = new pg.Client({ connectionString: db.url });
    await longTransaction.connect();
    try {
      await longTransaction.query('BEGIN');
      await longTransaction.query('SELECT count(*) FROM gadgets');
      const stop = new AbortController();
      // Asked to stop while its statement waits; it would try again only a minute later.
      const migrating = runMigrations(source, stop.signal, {
        timeoutMs: 1_000,
        attempts: 1000,
        retryDelayMs: 60_000,
      });
      expect(await someoneWaitsForLock(db.url)).toBe(true);
      stop.abort();
      await expect(migrating).rejects.toMatchObject({
        applied: [],
        pending: ['AddGadgetColour1700000000002'],
      });
    } finally {
      await longTransaction.query('COMMIT');
      await longTransaction.end();
    }
    expect(await runMigrations(source, undefined, quickly)).toEqual(['AddGadgetColour1700000000002']);
  });

  it('reverts only once no one else migrates (the same advisory lock)', async () => {
    const migrating = new pg.Client({ connectionString: db.url });
    await migrating.connect();
    try {
      await migrating.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      const reverting = revertLastMigration(source, quickly);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await applied()).toContain('AddGadgetColour1700000000002');
      await migrating.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      expect(await reverting).toBe('AddGadgetColour1700000000002');
    } finally {
      await migrating.end();
    }
    expect(await runMigrations(source, undefined, quickly)).toEqual(['AddGadgetColour1700000000002']);
  });

  it("does not queue the release's queries behind a DDL lock it waits for; it retries until the lock is free", async () => {
    await revertLastMigration(source, quickly);
    const longTransaction = new pg.Client({ connectionString: db.url });
    const release = new pg.Client({ connectionString: db.url, statement_timeout: 10_000 });
    await Promise.all([longTransaction.connect(), release.connect()]);
    try {
      await longTransaction.query('BEGIN');
      await longTransaction.query('SELECT count(*) FROM gadgets');
      const migrating = runMigrations(source, undefined, quickly);
      expect(await someoneWaitsForLock(db.url)).toBe(true);
      // Without a lock timeout, this read would wait behind the ALTER TABLE until the long transaction ends.
      for (let read = 0; read < 5; read++) await release.query('SELECT * FROM gadgets WHERE id = 1');
      expect(await applied()).not.toContain('AddGadgetColour1700000000002');
      await longTransaction.query('COMMIT');
      expect(await migrating).toEqual(['AddGadgetColour1700000000002']);
    } finally {
      await Promise.all([longTransaction.end(), release.end()]);
    }
  });

  it('gives up, with nothing of the migration applied, when the lock stays taken', async () => {
    await revertLastMigration(source, quickly);
    const longTransaction = new pg.Client({ connectionString: db.url });
    await longTransaction.connect();
    try {
      await longTransaction.query('BEGIN');
      await longTransaction.query('SELECT count(*) FROM gadgets');
      await expect(
        runMigrations(source, undefined, { timeoutMs: 50, attempts: 3, retryDelayMs: 10 }),
      ).rejects.toThrow(/AddGadgetColour1700000000002 waited 3 times for a table's lock/);
    } finally {
      await longTransaction.query('COMMIT');
      await longTransaction.end();
    }
    expect(await applied()).not.toContain('AddGadgetColour1700000000002');
    const columns = await source.query(
      `SELECT column_name FROM information_schema.columns WHERE table_name = 'gadgets' ORDER BY column_name`,
    );
    expect(columns).toEqual([{ column_name: 'id' }, { column_name: 'size' }]);
  });
});

describe('ShardAnalyticsCounters', () => {
  it("loses none of the running release's writes that are in flight while it copies the counters", async () => {
    const db = await createTestDatabase();
    const source = new DataSource(
      dataSourceOptions(loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: db.url })),
    );
    const oldRelease = new pg.Client({ connectionString: db.url });
    try {
      await source.initialize();
      await oldRelease.connect();
      const migration = new ShardAnalyticsCounters1796024000000();
      const runner = source.createQueryRunner();
      await migration.down(runner);
      // A write of the release before, not yet committed when the migration starts.
      await oldRelease.query('BEGIN');
      await oldRelease.query(
        `INSERT INTO analytics_daily (day, dau, wau, mau) VALUES ('2001-02-03', 1, 2, 3)`,
      );
      await runner.startTransaction();
      const migrating = migration.up(runner);
      // The migration waits for that write's transaction (before its copy, or before its trigger without the lock).
      expect(await someoneWaitsForLock(db.url)).toBe(true);
      await oldRelease.query('COMMIT');
      await migrating;
      await runner.commitTransaction();
      await runner.release();
      const [counts] = await source.query(
        `SELECT sum(dau)::int AS dau, sum(wau)::int AS wau, sum(mau)::int AS mau
         FROM analytics_daily_counts WHERE day = '2001-02-03'`,
      );
      expect(counts).toEqual({ dau: 1, wau: 2, mau: 3 });
    } finally {
      await oldRelease.end();
      if (source.isInitialized) await source.destroy();
      await db.drop();
    }
  });
});
