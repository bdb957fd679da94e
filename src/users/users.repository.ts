import { Injectable } from '@nestjs/common';
import { Database, empty, sql } from '../database/database.js';
import type { User } from './user.entity.js';

export type UserRow = Pick<User, 'id' | 'username' | 'email' | 'displayName' | 'createdAt'>;
export type NewUser = Pick<User, 'id' | 'cognitoSub' | 'username' | 'email'>;

const COLUMNS = sql`id, username, email, display_name AS "displayName", created_at AS "createdAt"`;

@Injectable()
export class UsersRepository {
  constructor(private readonly db: Database) {}

  /**
   * Creates the user's row, or brings a known user's email up to date with their token (an address changed in Cognito,
   * or a row made before tokens carried one). The id of the row inserted or changed; undefined when it was as given.
   */
  async insertOrRefresh(user: NewUser): Promise<string | undefined> {
    const row = await this.db.row<{ id: string }>(sql`
      INSERT INTO users (id, cognito_sub, username, email)
      VALUES (${user.id}, ${user.cognitoSub}, ${user.username}, ${user.email})
      ON CONFLICT (cognito_sub) DO UPDATE SET email = EXCLUDED.email, updated_at = now()
        WHERE EXCLUDED.email IS NOT NULL AND users.email IS DISTINCT FROM EXCLUDED.email
      RETURNING id`);
    return row?.id;
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

  /** Newest first, after the cursor's id; `prefix` matches the start of the username or email, case-insensitively. */
  list(query: { limit: number; afterId?: string; prefix?: string }): Promise<UserRow[]> {
    const like = query.prefix && `${query.prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.db.rows<UserRow>(sql`
      SELECT ${COLUMNS} FROM users
      WHERE true
        ${query.afterId ? sql`AND id < ${query.afterId}` : empty}
        ${like ? sql`AND (lower(username) LIKE ${like} OR lower(email) LIKE ${like})` : empty}
      ORDER BY id DESC LIMIT ${query.limit}`);
  }
}
