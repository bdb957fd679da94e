import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DataSource } from 'typeorm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShardAnalyticsCounters1796024000000 } from '../../migrations/1796024000000-ShardAnalyticsCounters.js';
import { loadDatabaseConfig } from '../../src/config/config.js';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { pendingMigrations, runMigrations } from '../../src/database/migrator.js';
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
