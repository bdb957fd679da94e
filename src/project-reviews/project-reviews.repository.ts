import { Injectable } from '@nestjs/common';
import { Database, sql } from '../database/database.js';

export const REVIEW_STATUSES = ['requested', 'approved', 'rejected', 'withdrawn'] as const;
export type ReviewStatus = (typeof REVIEW_STATUSES)[number];

export interface ReviewRow {
  projectId: string;
  status: ReviewStatus;
  taskId: string;
  requestedAt: Date;
  decidedAt: Date | null;
}

const COLUMNS = sql`project_id AS "projectId", status, task_id AS "taskId", requested_at AS "requestedAt",
  decided_at AS "decidedAt"`;

/** The latest review of each project. */
@Injectable()
export class ProjectReviewsRepository {
  constructor(private readonly db: Database) {}

  /** Records a new request unless one is under way; undefined when one is. */
  request(projectId: string, taskId: string): Promise<ReviewRow | undefined> {
    return this.db.row<ReviewRow>(sql`
      INSERT INTO project_reviews (project_id, status, task_id) VALUES (${projectId}, 'requested', ${taskId})
      ON CONFLICT (project_id) DO UPDATE
        SET status = 'requested', task_id = excluded.task_id, requested_at = now(), decided_at = NULL
        WHERE project_reviews.status <> 'requested'
      RETURNING ${COLUMNS}`);
  }

  find(projectId: string): Promise<ReviewRow | undefined> {
    return this.db.row<ReviewRow>(
      sql`SELECT ${COLUMNS} FROM project_reviews WHERE project_id = ${projectId}`,
    );
  }

  /** The decision of the review's task (a project deleted meanwhile has no row left to change). */
  async decide(taskId: string, status: Exclude<ReviewStatus, 'requested'>): Promise<void> {
    await this.db.affected(sql`
      UPDATE project_reviews SET status = ${status}, decided_at = now() WHERE task_id = ${taskId}`);
  }
}
