import type { DataSource, QueryRunner } from 'typeorm';
import { sqlState } from './postgres-errors.js';

/** The data layer's own statements: health pings and the migration lock, on a connection of their own. */
export const MIGRATIONS_TABLE = 'migrations';
/** Arbitrary but fixed: every Runway process takes the same lock before migrating. */
export const MIGRATION_LOCK_KEY = 7_311_042_977;
/** PostgreSQL's answer to an unknown time zone, among others. */
const INVALID_PARAMETER_VALUE = '22023';

export async function ping(dataSource: DataSource): Promise<void> {
  await dataSource.query('SELECT 1');
}

/** A long migration (or waiting for another instance's) must not hit the API's statement timeout. */
export async function setMigrationSession(session: QueryRunner): Promise<void> {
  await session.query('SET statement_timeout = 0');
}

/** For the rest of the session's transaction: a statement waits at most `ms` for a lock, then fails (55P03). */
export async function limitLockWaits(session: QueryRunner, ms: number): Promise<void> {
  await session.query(`SET LOCAL lock_timeout = ${Math.round(ms)}`);
}

/** Whether PostgreSQL knows the time zone name (a name Node knows may be unknown to it). */
export async function knowsTimeZone(dataSource: DataSource, zone: string): Promise<boolean> {
  try {
    await dataSource.query('SELECT now() AT TIME ZONE $1', [zone]);
    return true;
  } catch (error) {
    if (sqlState(error) === INVALID_PARAMETER_VALUE) return false;
    throw error;
  }
}

/** Session-level, held until released across the migrations' own transactions; false when another session has it. */
export async function tryLockForMigrations(session: QueryRunner): Promise<boolean> {
  const rows = (await session.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK_KEY])) as {
    locked: boolean;
  }[];
  return rows[0]!.locked;
}

export async function unlockMigrations(session: QueryRunner): Promise<void> {
  await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  await session.query('RESET statement_timeout');
}

/** The name of the migration applied last; undefined when none was (or the table does not exist yet). */
export async function lastAppliedMigration(session: QueryRunner): Promise<string | undefined> {
  if (!(await session.hasTable(MIGRATIONS_TABLE))) return undefined;
  const rows = (await session.query(`SELECT name FROM "${MIGRATIONS_TABLE}" ORDER BY id DESC LIMIT 1`)) as {
    name: string;
  }[];
  return rows[0]?.name;
}

export async function deleteAppliedMigration(session: QueryRunner, name: string): Promise<void> {
  await session.query(`DELETE FROM "${MIGRATIONS_TABLE}" WHERE name = $1`, [name]);
}

/** Names of the applied migrations; none when the table does not exist yet. */
export async function appliedMigrations(dataSource: DataSource): Promise<Set<string>> {
  const rows = await dataSource
    .query<{ name: string }[]>(`SELECT name FROM "${MIGRATIONS_TABLE}"`)
    .catch((error: { code?: string }) => {
      if (error.code === '42P01') return []; // undefined_table
      throw error;
    });
  return new Set(rows.map((row) => row.name));
}
