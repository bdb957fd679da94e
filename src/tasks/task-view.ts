import type { TaskDto } from './tasks.dto.js';
import type { TaskRow } from './tasks.repository.js';

/** What a task about a deleted user says once its subject's words are erased; its decision and times stay. */
/** The decider a task names once the user who decided it has been deleted. */
export const DELETED_DECIDER = 'a deleted user';

export const ABOUT_DELETED_USER = {
  title: 'About a deleted user',
  description: '',
  payload: {},
  subjectUserId: null,
};

/** A task as every endpoint shows it; the task token never leaves the database. */
export function toTaskDto(row: TaskRow): TaskDto {
  return {
    id: row.id,
    type: row.type,
    title: row.title,
    description: row.description,
    payload: row.payload,
    status: row.status,
    subjectUserId: row.subjectUserId,
    assignee: row.assigneeId,
    dueAt: row.dueAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    createdBy: { kind: row.createdByKind, id: row.createdById },
    decision: row.decidedAt
      ? {
          outcome: row.decisionOutcome!,
          comment: row.decisionComment,
          decidedBy: row.decidedBy!,
          decidedAt: row.decidedAt.toISOString(),
          via: row.decidedVia!,
        }
      : null,
    callback: row.callbackStatus ? { status: row.callbackStatus, reason: row.callbackReason } : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}
