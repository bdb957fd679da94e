import { Injectable } from '@nestjs/common';
import { Database, empty, sql } from '../database/database.js';
import type { User } from './user.entity.js';

export type UserRow = Pick<User, 'id' | 'username' | 'email' | 'displayName' | 'createdAt'>;
export type NewUser = Pick<User, 'id' | 'cognitoSub' | 'username' | 'email' | 'emailIssuedAt'>;

const COLUMNS = sql`id, username, email, display_name AS "displayName", created_at AS "createdAt"`;

@Injectable()
export class UsersRepository {
  constructor(private readonly db: Database) {}

  /**
   * Creates the user's row, unless the account was deleted after `signedInAt` (a token of before the deletion brings
   * nothing back), or brings a known user's email up to date with their token (an address changed in Cognito, or a
   * row made before tokens carried one) unless the token is older than the one that brought the current address. The
   * id of the row inserted or changed; undefined when it was as given.
   */
  async insertOrRefresh(user: NewUser, signedInAt: Date): Promise<string | undefined> {
    const row = await this.db.row<{ id: string }>(sql`
      INSERT INTO users (id, cognito_sub, username, email, email_issued_at)
      SELECT ${user.id}::uuid, ${user.cognitoSub}::text, ${user.username}::text, ${user.email}::text,
        ${user.emailIssuedAt}::timestamptz
      WHERE NOT EXISTS (
        SELECT 1 FROM deleted_users WHERE cognito_sub = ${user.cognitoSub} AND deleted_at >= ${signedInAt})
      ON CONFLICT (cognito_sub) DO UPDATE
        SET email = EXCLUDED.email, email_issued_at = EXCLUDED.email_issued_at, updated_at = now()
        WHERE EXCLUDED.email IS NOT NULL AND users.email IS DISTINCT FROM EXCLUDED.email
          AND (users.email_issued_at IS NULL OR EXCLUDED.email_issued_at >= users.email_issued_at)
      RETURNING id`);
    return row?.id;
  }

  /** Whether the account was deleted after `signedInAt`. */
  async deletedAfter(cognitoSub: string, signedInAt: Date): Promise<boolean> {
    const deleted = await this.db.row(sql`
      SELECT 1 FROM deleted_users WHERE cognito_sub = ${cognitoSub} AND deleted_at >= ${signedInAt}`);
    return deleted !== undefined;
  }

  /**
   * The time is the clock's, not the transaction's start: a sign-in before the user's row was locked for the deletion
   * (whose first request may have taken the id about to go) counts as before it.
   */
  async rememberDeleted(cognitoSub: string): Promise<void> {
    await this.db.affected(sql`
      INSERT INTO deleted_users (cognito_sub, deleted_at) VALUES (${cognitoSub}, clock_timestamp())
      ON CONFLICT (cognito_sub) DO UPDATE SET deleted_at = EXCLUDED.deleted_at`);
  }

  /** Deletions no token can predate any more. */
  forgetDeletedBefore(before: Date): Promise<number> {
    return this.db.affected(sql`DELETE FROM deleted_users WHERE deleted_at < ${before}`);
  }

  async idOf(cognitoSub: string): Promise<string | undefined> {
    return (await this.db.row<{ id: string }>(sql`SELECT id FROM users WHERE cognito_sub = ${cognitoSub}`))
      ?.id;
  }

  find(id: string): Promise<UserRow | undefined> {
    return this.db.row<UserRow>(sql`SELECT ${COLUMNS} FROM users WHERE id = ${id}`);
  }

  /** The row as changed; undefined when there is no such user (any more). */
  setDisplayName(id: string, displayName: string | null): Promise<UserRow | undefined> {
    return this.db.row<UserRow>(sql`
      UPDATE users SET display_name = ${displayName}, updated_at = now() WHERE id = ${id} RETURNING ${COLUMNS}`);
  }

  /** The current row of a Cognito user, locked until the transaction ends; undefined when there is none. */
  async lockBySub(cognitoSub: string): Promise<string | undefined> {
    return (
      await this.db.row<{ id: string }>(
        sql`SELECT id FROM users WHERE cognito_sub = ${cognitoSub} FOR UPDATE`,
      )
    )?.id;
  }

  /** Deletes the user and, through foreign keys, everything they own. */
  async delete(id: string): Promise<void> {
    await this.db.affected(sql`DELETE FROM users WHERE id = ${id}`);
  }

  /**
   * Newest first, after the cursor's id; `prefix` matches the start of the username or email, case-insensitively. A
   * username that is the Cognito sub (a pool signing in by email) is not one people search by: it is left out.
   */
  list(query: { limit: number; afterId?: string; prefix?: string }): Promise<UserRow[]> {
    const pattern = query.prefix && `${query.prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    // Lowered by PostgreSQL, as the columns are: JavaScript's rules differ (Greek final sigma; a C-locale database).
    const like = pattern && sql`lower(${pattern})`;
    return this.db.rows<UserRow>(sql`
      SELECT ${COLUMNS} FROM users
      WHERE true
        ${query.afterId ? sql`AND id < ${query.afterId}` : empty}
        ${like ? sql`AND ((username <> cognito_sub AND lower(username) LIKE ${like}) OR lower(email) LIKE ${like})` : empty}
      ORDER BY id DESC LIMIT ${query.limit}`);
  }
}
