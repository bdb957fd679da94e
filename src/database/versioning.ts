import { empty, sql, type Sql } from './database.js';

/**
 * Optimistic concurrency: every row has a `version` column that each write increments. A conditional write applies
 * only to the versions the caller read (`If-Match`), in the same statement, so of two concurrent writers one wins.
 */
export type ExpectedVersion = 'any' | readonly number[];

/** `AND version = ANY(…)` for a WHERE clause; nothing when any version will do. */
export function versionIs(expected: ExpectedVersion): Sql {
  return expected === 'any' ? empty : sql`AND version = ANY(${expected}::int[])`;
}

export function versionMatches(expected: ExpectedVersion, version: number): boolean {
  return expected === 'any' || expected.includes(version);
}
