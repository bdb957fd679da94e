import { setTimeout as sleep } from 'node:timers/promises';
import { MigrationExecutor, type DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  appliedMigrations,
  deleteAppliedMigration,
  lastAppliedMigration,
  limitLockWaits,
  setMigrationSession,
  tryLockForMigrations,
  unlockMigrations,
} from './database.repository.js';
import { sqlState } from './postgres-errors.js';

const LOCK_POLL_MS = 250;
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * How long a migration's statement waits for a table's lock before the migration rolls back and tries again later.
 * A DDL statement queued for a lock blocks every reader and writer of the table that comes after it, so it must not
 * wait behind a long transaction for long.
 */
export interface LockWaits {
  timeoutMs: number;
  attempts: number;
  /** Before the second attempt; doubled before each one after. */
  retryDelayMs: number;
}
const LOCK_WAITS: LockWaits = { timeoutMs: 3_000, attempts: 6, retryDelayMs: 1_000 };

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
 * runs in its own transaction (unless it says `transaction = false`, as `CREATE INDEX CONCURRENTLY` needs); when
 * `stop` aborts, the current one finishes (or rolls back) and no other starts. Returns the names of the migrations
 * this call applied.
 */
export async function runMigrations(
  dataSource: DataSource,
  stop?: AbortSignal,
  lockWaits: LockWaits = LOCK_WAITS,
): Promise<string[]> {
  return withMigrationLock(dataSource, stop, async (session) => {
    const applied: string[] = [];
    const executor = new MigrationExecutor(dataSource, session);
    for (const migration of await executor.getPendingMigrations()) {
      if (stop?.aborted) throw new MigrationsInterrupted(applied, await pendingMigrations(dataSource));
      const done = await inTransaction(session, migration.instance!, lockWaits, stop, () =>
        executor.executeMigration(migration),
      );
      if (!done) throw new MigrationsInterrupted(applied, await pendingMigrations(dataSource));
      applied.push(migration.name);
    }
    return applied;
  });
}

/** Undoes the last applied migration, under the same lock; returns its name, or undefined when none was applied. */
export async function revertLastMigration(
  dataSource: DataSource,
  lockWaits: LockWaits = LOCK_WAITS,
): Promise<string | undefined> {
  return withMigrationLock(dataSource, undefined, async (session) => {
    const name = await lastAppliedMigration(session);
    if (name === undefined) return undefined;
    const migration = dataSource.migrations.find((known) => migrationName(known) === name);
    if (!migration) throw new Error(`The database's last migration, ${name}, is not in this code.`);
    await inTransaction(session, migration, lockWaits, undefined, async () => {
      await migration.down(session);
      await deleteAppliedMigration(session, name);
    });
    return name;
  });
}

/** Names of the migrations the code knows that the database has not recorded. */
export async function pendingMigrations(dataSource: DataSource): Promise<string[]> {
  const known = dataSource.migrations.map(migrationName);
  if (known.length === 0) return [];
  const recorded = await appliedMigrations(dataSource);
  return known.filter((name) => !recorded.has(name));
}

function migrationName(migration: MigrationInterface): string {
  return migration.name ?? migration.constructor.name;
}

async function withMigrationLock<T>(
  dataSource: DataSource,
  stop: AbortSignal | undefined,
  work: (session: QueryRunner) => Promise<T>,
): Promise<T> {
  const session = dataSource.createQueryRunner('master');
  await session.connect();
  try {
    await setMigrationSession(session);
    while (!(await tryLockForMigrations(session))) {
      if (stop?.aborted) throw new MigrationsInterrupted([], await pendingMigrations(dataSource));
      await sleep(LOCK_POLL_MS);
    }
    try {
      return await work(session);
    } finally {
      await unlockMigrations(session).catch(() => undefined);
    }
  } finally {
    await session.release();
  }
}

/**
 * Runs one migration's step in a transaction whose statements wait at most `timeoutMs` for a lock; when one waits
 * longer, the step rolls back and runs again later, unless `stop` aborts meanwhile (false: not applied). A migration
 * without a transaction runs once, as it is.
 */
async function inTransaction(
  session: QueryRunner,
  migration: MigrationInterface,
  lockWaits: LockWaits,
  stop: AbortSignal | undefined,
  step: () => Promise<unknown>,
): Promise<boolean> {
  if (migration.transaction === false) {
    await step().catch((error: unknown) => {
      throw failed(migration, error);
    });
    return true;
  }
  for (let attempt = 1; ; attempt++) {
    if (stop?.aborted) return false;
    await session.startTransaction();
    try {
      await limitLockWaits(session, lockWaits.timeoutMs);
      await step();
      await session.commitTransaction();
      return true;
    } catch (error) {
      // A connection lost during the step fails the rollback too: the step's own error is the one that tells why.
      await session.rollbackTransaction().catch(() => undefined);
      if (sqlState(error) !== LOCK_NOT_AVAILABLE) throw failed(migration, error);
      if (attempt === lockWaits.attempts) {
        throw new Error(
          `${migrationName(migration)} waited ${lockWaits.attempts} times for a table's lock, held by another ` +
            'transaction (see pg_stat_activity); nothing of it was applied.',
          { cause: error },
        );
      }
      await sleep(lockWaits.retryDelayMs * 2 ** (attempt - 1), undefined, { signal: stop }).catch(
        () => undefined,
      );
    }
  }
}

/** The step's error, named after its migration (the cause keeps the error and its stack). */
function failed(migration: MigrationInterface, error: unknown): Error {
  const reason = error instanceof Error ? error.message : String(error);
  return new Error(`${migrationName(migration)} failed: ${reason}`, { cause: error });
}
