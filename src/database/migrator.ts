import { MigrationExecutor, type DataSource } from 'typeorm';
import { MIGRATIONS_TABLE } from './data-source.js';

/** Arbitrary but fixed: every Runway process takes the same lock before migrating. */
const MIGRATION_LOCK_KEY = 7_311_042_977;

/**
 * Applies pending migrations under a session-level PostgreSQL advisory lock, so instances that start at once
 * apply each migration exactly once: the first runs them, the others wait, then find nothing pending.
 * Returns the names of the migrations this call applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner('master');
  await runner.connect();
  try {
    // A long migration (or waiting for another instance's) must not hit the API's statement timeout.
    await runner.query('SET statement_timeout = 0');
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const executor = new MigrationExecutor(dataSource, runner);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((migration) => migration.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.query('RESET statement_timeout').catch(() => undefined);
    await runner.release();
  }
}

/** Names of the migrations the code knows that the database has not recorded. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const known = dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
  if (known.length === 0) return [];
  const rows = await dataSource
    .query<{ name: string }[]>(`SELECT name FROM "${MIGRATIONS_TABLE}"`)
    .catch((error: { code?: string }) => {
      if (error.code === '42P01') return []; // the table does not exist yet: nothing applied
      throw error;
    });
  const applied = new Set(rows.map((row) => row.name));
  return known.filter((name) => !applied.has(name));
}
