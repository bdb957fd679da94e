import { Injectable } from '@nestjs/common';
import { Database, empty, sql } from '../database/database.js';
import { versionIs, type ExpectedVersion } from '../database/versioning.js';
import type { TaskOutcome, TaskStatus } from './task-types.js';

export type ActorKind = 'user' | 'machine' | 'email' | 'system';
export type CallbackStatus = 'pending' | 'delivered' | 'failed';

export interface TaskRow {
  id: string;
  type: string;
  title: string;
  description: string;
  payload: Record<string, unknown>;
  status: TaskStatus;
  subjectUserId: string | null;
  assigneeId: string | null;
  dueAt: Date;
  expiresAt: Date | null;
  createdByKind: 'user' | 'machine' | 'system';
  createdById: string;
  decisionOutcome: TaskOutcome | null;
  decisionComment: string | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  decidedVia: 'api' | 'email' | 'system' | null;
  hasTaskToken: boolean;
  callbackStatus: CallbackStatus | null;
  callbackReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

export type NewTask = Pick<
  TaskRow,
  | 'id'
  | 'type'
  | 'title'
  | 'description'
  | 'payload'
  | 'subjectUserId'
  | 'dueAt'
  | 'expiresAt'
  | 'createdByKind'
  | 'createdById'
> & { encryptedToken: Buffer | null; tokenDigest: Buffer | null };

export interface Decision {
  outcome: TaskOutcome;
  comment: string | null;
  decidedBy: string;
  via: 'api' | 'email' | 'system';
  /** A cancellation that cleans up after a deletion: it ends the task even past `expiresAt`. */
  cleanup?: boolean;
}

const COLUMNS = sql`id, type, title, description, payload, status, subject_user_id AS "subjectUserId",
  assignee_id AS "assigneeId", due_at AS "dueAt", expires_at AS "expiresAt", created_by_kind AS "createdByKind",
  created_by_id AS "createdById", decision_outcome AS "decisionOutcome", decision_comment AS "decisionComment",
  decided_by AS "decidedBy", decided_at AS "decidedAt", decided_via AS "decidedVia",
  task_token IS NOT NULL AS "hasTaskToken", callback_status AS "callbackStatus", callback_reason AS "callbackReason",
  created_at AS "createdAt", updated_at AS "updatedAt", version`;

/** Every statement about tasks themselves (links live in TaskLinksRepository). */
@Injectable()
export class TasksRepository {
  constructor(private readonly db: Database) {}

  /** The new task, or undefined when a task of the same Step Functions token exists (see {@link withToken}). */
  insert(task: NewTask): Promise<TaskRow | undefined> {
    return this.db.row<TaskRow>(sql`
      INSERT INTO tasks (id, type, title, description, payload, subject_user_id, due_at, expires_at, created_by_kind,
        created_by_id, task_token, task_token_digest, callback_status)
      VALUES (${task.id}, ${task.type}, ${task.title}, ${task.description}, ${JSON.stringify(task.payload)}::jsonb,
        ${task.subjectUserId}, ${task.dueAt}, ${task.expiresAt}, ${task.createdByKind}, ${task.createdById},
        ${task.encryptedToken}, ${task.tokenDigest}, ${task.encryptedToken ? 'pending' : null})
      ON CONFLICT (task_token_digest) WHERE task_token_digest IS NOT NULL DO NOTHING
      RETURNING ${COLUMNS}`);
  }

  withToken(digest: Buffer): Promise<TaskRow | undefined> {
    return this.db.row<TaskRow>(sql`SELECT ${COLUMNS} FROM tasks WHERE task_token_digest = ${digest}`);
  }

  /** Tasks of a Step Functions token made before tokens had digests. */
  withoutTokenDigest(): Promise<{ id: string; token: Buffer }[]> {
    return this.db.rows(
      sql`SELECT id, task_token AS token FROM tasks WHERE task_token IS NOT NULL AND task_token_digest IS NULL`,
    );
  }

  /** The digest of its token, unless another task has it (two tasks made of one token before digests existed). */
  async setTokenDigest(id: string, digest: Buffer): Promise<void> {
    await this.db.rows(sql`UPDATE tasks SET task_token_digest = ${digest} WHERE id = ${id}
      AND task_token_digest IS NULL AND NOT EXISTS (SELECT FROM tasks WHERE task_token_digest = ${digest})`);
  }

  async userExists(id: string): Promise<boolean> {
    return (await this.db.row(sql`SELECT 1 FROM users WHERE id = ${id}`)) !== undefined;
  }

  find(id: string): Promise<TaskRow | undefined> {
    return this.db.row<TaskRow>(sql`SELECT ${COLUMNS} FROM tasks WHERE id = ${id}`);
  }

  /** The open tasks about a user, locked until the transaction ends. */
  async openAbout(userId: string): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(
      sql`SELECT id FROM tasks WHERE subject_user_id = ${userId} AND status = 'open' ORDER BY id FOR UPDATE`,
    );
    return rows.map((row) => row.id);
  }

  /** Locks the task when it is open (a decision under way is waited for); false when it is not open. */
  async lockIfOpen(id: string): Promise<boolean> {
    return (
      (await this.db.rows(sql`SELECT FROM tasks WHERE id = ${id} AND status = 'open' FOR UPDATE`)).length > 0
    );
  }

  /**
   * Replaces what the tasks about a user say (title, description, payload, a person's comment on the decision); the
   * decisions, the system's reasons and the times stay.
   */
  async redactAbout(userId: string, title: string): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(sql`
      UPDATE tasks SET title = ${title}, description = '', payload = '{}',
        decision_comment = CASE WHEN decided_via = 'system' THEN decision_comment END,
        version = version + 1, updated_at = now()
      WHERE subject_user_id = ${userId} RETURNING id`);
    return rows.map((row) => row.id);
  }

  async renameDecider(ids: string[], name: string): Promise<void> {
    await this.db.affected(sql`
      UPDATE tasks SET decided_by = ${name}, version = version + 1, updated_at = now() WHERE id = ANY(${ids}::uuid[])`);
  }

  /** By the database's clock, the one `decide` goes by (the app's may differ by a moment). */
  async hasExpired(id: string): Promise<boolean> {
    const row = await this.db.row<{ expired: boolean }>(
      sql`SELECT coalesce(expires_at <= now(), false) AS expired FROM tasks WHERE id = ${id}`,
    );
    return row?.expired ?? false;
  }

  /** The inbox order: by due date (so overdue first), then oldest first; keyset on (due_at, id). */
  list(query: {
    limit: number;
    status?: TaskStatus;
    type?: string;
    assigneeId?: string;
    after?: { dueAt: Date; id: string };
  }): Promise<TaskRow[]> {
    return this.db.rows<TaskRow>(sql`
      SELECT ${COLUMNS} FROM tasks
      WHERE true
        ${query.status ? sql`AND status = ${query.status}` : empty}
        ${query.type ? sql`AND type = ${query.type}` : empty}
        ${query.assigneeId ? sql`AND assignee_id = ${query.assigneeId}` : empty}
        ${query.after ? sql`AND (due_at, id) > (${query.after.dueAt}, ${query.after.id})` : empty}
      ORDER BY due_at, id LIMIT ${query.limit}`);
  }

  /**
   * Assigns an open, unexpired task; undefined when it is not, or not at an expected version. Without an expected
   * version, a task someone else claimed stays theirs (undefined too): taking it over takes its version.
   */
  claim(id: string, assigneeId: string, expected: ExpectedVersion): Promise<TaskRow | undefined> {
    return this.db.row<TaskRow>(sql`
      UPDATE tasks SET assignee_id = ${assigneeId}, version = version + 1, updated_at = now()
      WHERE id = ${id} AND status = 'open' AND (expires_at IS NULL OR expires_at > now()) ${versionIs(expected)}
        ${expected === 'any' ? sql`AND (assignee_id IS NULL OR assignee_id = ${assigneeId})` : empty}
      RETURNING ${COLUMNS}`);
  }

  /**
   * The one transition out of `open`: of two concurrent deciders, one updates the row, the other gets undefined. Past
   * `expiresAt`, the task only expires, or is cancelled by the system or by a cleanup (a deleted user's or project's).
   */
  decide(id: string, decision: Decision, expected: ExpectedVersion): Promise<TaskRow | undefined> {
    return this.db.row<TaskRow>(sql`
      UPDATE tasks SET status = ${decision.outcome}, decision_outcome = ${decision.outcome},
        decision_comment = ${decision.comment}, decided_by = ${decision.decidedBy}, decided_at = now(),
        decided_via = ${decision.via}, version = version + 1, updated_at = now()
      WHERE id = ${id} AND status = 'open' ${versionIs(expected)}
        ${decision.outcome === 'expired' || (decision.outcome === 'cancelled' && (decision.via === 'system' || decision.cleanup)) ? empty : sql`AND (expires_at IS NULL OR expires_at > now())`}
      RETURNING ${COLUMNS}`);
  }

  async encryptedToken(id: string): Promise<Buffer | undefined> {
    return (
      (
        await this.db.row<{ token: Buffer | null }>(
          sql`SELECT task_token AS token FROM tasks WHERE id = ${id}`,
        )
      )?.token ?? undefined
    );
  }

  /** Counts an attempt to call back; returns the count so far (this one included). */
  async countCallbackAttempt(id: string): Promise<number> {
    return (await this.db.row<{ attempts: number }>(sql`
      UPDATE tasks SET callback_attempts = callback_attempts + 1 WHERE id = ${id} RETURNING callback_attempts AS attempts`))!
      .attempts;
  }

  /** Records the callback's end once: false when it was already settled (another run of the job got there first). */
  async settleCallback(id: string, status: 'delivered' | 'failed', reason: string | null): Promise<boolean> {
    const changed = await this.db.affected(sql`
      UPDATE tasks SET callback_status = ${status}, callback_reason = ${reason}, version = version + 1, updated_at = now()
      WHERE id = ${id} AND callback_status = 'pending'`);
    return changed > 0;
  }

  /** Open tasks past their expiry, but `skipped`, locked for this transaction (another instance skips them). */
  async lockExpired(limit: number, skipped: string[] = []): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>(sql`
      SELECT id FROM tasks WHERE status = 'open' AND expires_at <= now() AND id <> ALL(${skipped}::uuid[])
      ORDER BY expires_at LIMIT ${limit} FOR UPDATE SKIP LOCKED`);
    return rows.map((row) => row.id);
  }

  /**
   * Marks open tasks whose reminder is due (three quarters of the time to their due date gone) or, for `escalation`,
   * that are overdue, and returns them: each is reminded and escalated once.
   */
  async markNotified(kind: 'reminder' | 'escalation', limit: number): Promise<string[]> {
    const column = kind === 'reminder' ? sql`reminded_at` : sql`escalated_at`;
    const due =
      kind === 'reminder'
        ? sql`due_at > now() AND now() >= due_at - (due_at - created_at) / 4`
        : sql`due_at <= now()`;
    const rows = await this.db.rows<{ id: string }>(sql`
      UPDATE tasks SET ${column} = now()
      WHERE id IN (
        SELECT id FROM tasks WHERE status = 'open' AND ${column} IS NULL AND ${due}
        ORDER BY due_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING id`);
    return rows.map((row) => row.id);
  }
}
