import { Injectable } from '@nestjs/common';
import { Database, sql } from '../database/database.js';

export interface TaskLinkRow {
  id: string;
  taskId: string;
  recipient: string;
  expiresAt: Date;
  usedAt: Date | null;
}

/** Emailed links: one row per link sent, so that each can be used once. */
@Injectable()
export class TaskLinksRepository {
  constructor(private readonly db: Database) {}

  /** Stores the link; storing it again (the same id) keeps the first row, used or not. */
  async insert(link: Omit<TaskLinkRow, 'usedAt'>): Promise<void> {
    await this.db.affected(sql`
      INSERT INTO task_links (id, task_id, recipient, expires_at)
      VALUES (${link.id}, ${link.taskId}, ${link.recipient}, ${link.expiresAt})
      ON CONFLICT (id) DO NOTHING`);
  }

  find(id: string): Promise<TaskLinkRow | undefined> {
    return this.db.row<TaskLinkRow>(sql`
      SELECT id, task_id AS "taskId", recipient, expires_at AS "expiresAt", used_at AS "usedAt"
      FROM task_links WHERE id = ${id}`);
  }

  /** True for the one caller that uses the link first. */
  async use(id: string): Promise<boolean> {
    return (
      (await this.db.affected(
        sql`UPDATE task_links SET used_at = now() WHERE id = ${id} AND used_at IS NULL`,
      )) > 0
    );
  }
}
