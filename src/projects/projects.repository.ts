import { Injectable } from '@nestjs/common';
import { Database, empty, join, sql } from '../database/database.js';
import { versionIs, type ExpectedVersion } from '../database/versioning.js';
import type { Project, ProjectStatus } from './project.entity.js';

export type ProjectRow = Pick<
  Project,
  'id' | 'name' | 'description' | 'status' | 'createdAt' | 'updatedAt' | 'version'
>;
export type ProjectChanges = Partial<Pick<Project, 'name' | 'description' | 'status'>>;

const COLUMNS = sql`id, name, description, status, created_at AS "createdAt", updated_at AS "updatedAt", version`;
const CHANGEABLE = { name: sql`name`, description: sql`description`, status: sql`status` } as const;

/** Projects of one owner: every statement is filtered by owner, so another user's project is "not found". */
@Injectable()
export class ProjectsRepository {
  constructor(private readonly db: Database) {}

  async insert(
    project: Pick<Project, 'id' | 'ownerId' | 'name' | 'description' | 'status'>,
  ): Promise<ProjectRow> {
    return (await this.db.row<ProjectRow>(sql`
      INSERT INTO projects (id, owner_id, name, description, status)
      VALUES (${project.id}, ${project.ownerId}, ${project.name}, ${project.description}, ${project.status})
      RETURNING ${COLUMNS}`))!;
  }

  find(ownerId: string, id: string): Promise<ProjectRow | undefined> {
    return this.db.row<ProjectRow>(
      sql`SELECT ${COLUMNS} FROM projects WHERE id = ${id} AND owner_id = ${ownerId}`,
    );
  }

  /**
   * The project, kept (with its owner) until the transaction ends: neither can be deleted meanwhile. The owner is
   * locked first, the order in which deleting the owner locks both, so the two never wait for each other.
   */
  async findAndHold(ownerId: string, id: string): Promise<ProjectRow | undefined> {
    await this.db.rows(sql`SELECT FROM users WHERE id = ${ownerId} FOR KEY SHARE`);
    return this.db.row<ProjectRow>(
      sql`SELECT ${COLUMNS} FROM projects WHERE id = ${id} AND owner_id = ${ownerId} FOR KEY SHARE`,
    );
  }

  /**
   * Locks the project for its deletion (the owner first, as `findAndHold` does): a transaction holding it waits, and
   * what it wrote is seen; one coming after waits, then finds no project.
   */
  async lockForDeletion(ownerId: string, id: string): Promise<boolean> {
    await this.db.rows(sql`SELECT FROM users WHERE id = ${ownerId} FOR KEY SHARE`);
    return (
      (await this.db.rows(sql`SELECT FROM projects WHERE id = ${id} AND owner_id = ${ownerId} FOR UPDATE`))
        .length > 0
    );
  }

  /** Newest first (ids are UUIDv7), after the cursor's id. */
  list(
    ownerId: string,
    query: { limit: number; afterId?: string; status?: ProjectStatus },
  ): Promise<ProjectRow[]> {
    return this.db.rows<ProjectRow>(sql`
      SELECT ${COLUMNS} FROM projects
      WHERE owner_id = ${ownerId}
        ${query.status ? sql`AND status = ${query.status}` : empty}
        ${query.afterId ? sql`AND id < ${query.afterId}` : empty}
      ORDER BY id DESC LIMIT ${query.limit}`);
  }

  /** Applies `changes` when the version is one of `expected`; undefined when no row matched. */
  update(
    ownerId: string,
    id: string,
    changes: ProjectChanges,
    expected: ExpectedVersion,
  ): Promise<ProjectRow | undefined> {
    const assignments = (Object.keys(CHANGEABLE) as (keyof ProjectChanges)[])
      .filter((field) => changes[field] !== undefined)
      .map((field) => sql`${CHANGEABLE[field]} = ${changes[field]}`);
    return this.db.row<ProjectRow>(sql`
      UPDATE projects SET ${join(assignments)}, version = version + 1, updated_at = now()
      WHERE id = ${id} AND owner_id = ${ownerId} ${versionIs(expected)}
      RETURNING ${COLUMNS}`);
  }

  /** True when a row was deleted. */
  async delete(ownerId: string, id: string, expected: ExpectedVersion): Promise<boolean> {
    const deleted = await this.db.affected(sql`
      DELETE FROM projects WHERE id = ${id} AND owner_id = ${ownerId} ${versionIs(expected)}`);
    return deleted > 0;
  }
}
