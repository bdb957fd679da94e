import { setTimeout as sleep } from 'node:timers/promises';
import { MigrationExecutor, type DataSource } from 'typeorm';
import {
  appliedMigrations,
  setMigrationSession,
  tryLockForMigrations,
  unlockMigrations,
} from './database.repository.js';

const LOCK_POLL_MS = 250;

/** A shutdown signal arrived while migrating: `applied` committed, the rest did not run. */
export class MigrationsInterrupted extends Error {
  constructor(
    readonly applied: string[],
    readonly pending: string[],
  ) {
    super(
      `stopped while migrating: ${applied.length ? `applied ${applied.join(', ')}` : 'nothing applied'}; ` +
        `${pending.length ? `not applied: ${pending.join(', ')}` : 'nothing left to apply'}`,
    );
  }
}

/**
 * Applies pending migrations under a session-level PostgreSQL advisory lock, so instances that start at once
 * apply each migration exactly once: the first runs them, the others wait, then find nothing pending. Each migration
 * runs in its own transaction; when `stop` aborts, the current one finishes (or rolls back) and no other starts.
 * Returns the names of the migrations this call applied.
 */
export async function runMigrations(dataSource: DataSource, stop?: AbortSignal): Promise<string[]> {
  const session = dataSource.createQueryRunner('master');
  await session.connect();
  const applied: string[] = [];
  try {
    await setMigrationSession(session);
    while (!(await tryLockForMigrations(session))) {
      if (stop?.aborted) throw new MigrationsInterrupted([], await pendingMigrations(dataSource));
      await sleep(LOCK_POLL_MS);
    }
    try {
      const executor = new MigrationExecutor(dataSource, session);
      for (const migration of await executor.getPendingMigrations()) {
        if (stop?.aborted) throw new MigrationsInterrupted(applied, await pendingMigrations(dataSource));
        await session.startTransaction();
        try {
          await executor.executeMigration(migration);
          await session.commitTransaction();
        } catch (error) {
          await session.rollbackTransaction();
          throw error;
        }
        applied.push(migration.name);
      }
      return applied;
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
  const recorded = await appliedMigrations(dataSource);
  return known.filter((name) => !recorded.has(name));
}
