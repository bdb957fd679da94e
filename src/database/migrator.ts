import { MigrationExecutor, type DataSource } from 'typeorm';
import { appliedMigrations, lockForMigrations, unlockMigrations } from './database.repository.js';

/**
 * Applies pending migrations under a session-level PostgreSQL advisory lock, so instances that start at once
 * apply each migration exactly once: the first runs them, the others wait, then find nothing pending.
 * Returns the names of the migrations this call applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const session = dataSource.createQueryRunner('master');
  await session.connect();
  try {
    await lockForMigrations(session);
    try {
      const executor = new MigrationExecutor(dataSource, session);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((migration) => migration.name);
    } finally {
      await unlockMigrations(session).catch(() => undefined);
    }
  } finally {
    await session.release();
  }
}

/** Names of the migrations the code knows that the database has not recorded. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const known = dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
  if (known.length === 0) return [];
  const applied = await appliedMigrations(dataSource);
  return known.filter((name) => !applied.has(name));
}
