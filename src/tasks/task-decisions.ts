import { Injectable } from '@nestjs/common';
import type { Histogram } from '@opentelemetry/api';
import { AuditService } from '../audit/audit.service.js';
import { Database } from '../database/database.js';
import type { ExpectedVersion } from '../database/versioning.js';
import { ProblemException } from '../http/problem.js';
import { versionedWrite } from '../http/preconditions.js';
import { JobRunner } from '../jobs/job-runner.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { TaskTypes, type TaskOutcome } from './task-types.js';
import { TasksRepository, type ActorKind, type TaskRow } from './tasks.repository.js';
import { DELETED_DECIDER, toTaskDto } from './task-view.js';

/** Who acts on a task: `name` is what the task records as decidedBy (an email address when known). */
export interface Actor {
  kind: ActorKind;
  id: string;
  name: string;
  via: 'api' | 'email' | 'system';
}

export const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'runway', name: 'system', via: 'system' };

/** Defined by TaskCallbacks. */
export const CALLBACK_JOB = 'tasks.callback';

const ACTIONS: Record<TaskOutcome, string> = {
  approved: 'task.decided',
  rejected: 'task.decided',
  cancelled: 'task.cancelled',
  expired: 'task.expired',
};

/**
 * The one way out of `open`, whoever decides (an operator by API or by emailed link, the creator cancelling, expiry,
 * automation): in one transaction the task changes, its type reacts, the audit log records it and the Step Functions
 * callback is queued; so a decision is never half-made, and of two racing deciders exactly one wins.
 */
@Injectable()
export class TaskDecisions {
  private readonly timeToDecision: Histogram;

  constructor(
    private readonly db: Database,
    private readonly tasks: TasksRepository,
    private readonly types: TaskTypes,
    private readonly audit: AuditService,
    private readonly jobs: JobRunner,
    metrics: BusinessMetrics,
  ) {
    this.timeToDecision = metrics.histogram(
      'runway.tasks.time_to_decision',
      'Time from a task’s creation to a person’s decision',
      's',
      [60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86_400, 3 * 86_400, 7 * 86_400],
    );
  }

  async decide(
    id: string,
    decision: { outcome: TaskOutcome; comment?: string | null; cleanup?: boolean },
    actor: Actor,
    expected: ExpectedVersion = 'any',
  ): Promise<TaskRow> {
    const row = await this.db.transaction(async () => {
      const decided = await versionedWrite(this.resource(id), () =>
        this.tasks.decide(
          id,
          {
            outcome: decision.outcome,
            comment: decision.comment ?? null,
            decidedBy: actor.name,
            via: actor.via,
            cleanup: decision.cleanup,
          },
          expected,
        ),
      );
      await this.types.get(decided.type)?.onDecided?.(decided, decision.outcome);
      await this.audit.record({
        actorKind: actor.kind,
        actorId: actor.id,
        action: ACTIONS[decision.outcome],
        targetType: 'task',
        targetId: id,
        via: actor.via,
        details: { outcome: decision.outcome, comment: decision.comment ?? null, type: decided.type },
      });
      if (decided.hasTaskToken) await this.jobs.enqueue(CALLBACK_JOB, { taskId: id });
      return decided;
    });
    if (actor.kind !== 'system' && (row.status === 'approved' || row.status === 'rejected')) {
      this.timeToDecision.record((row.decidedAt!.getTime() - row.createdAt.getTime()) / 1000, {
        type: row.type,
      });
    }
    return row;
  }

  /** The tasks a deleted user decided no longer name them (by their email): the audit log keeps their id only. */
  async forgetDecider(userId: string): Promise<void> {
    const decided = await this.audit.targetsOf(userId, 'task', Object.values(ACTIONS));
    if (decided.length > 0) await this.tasks.renameDecider(decided, DELETED_DECIDER);
  }

  /** 404 when missing; 409 naming who decided when no longer open; otherwise the version was stale (412). */
  private resource(id: string) {
    return { name: 'task', find: () => findActionable(this.tasks, id) };
  }
}

/**
 * The task as it is when a write to it failed: undefined when missing; 409 when decided, or past `expiresAt` (before
 * the sweep has marked it expired).
 */
export async function findActionable(tasks: TasksRepository, id: string): Promise<TaskRow | undefined> {
  const current = await tasks.find(id);
  if (current && current.status !== 'open') throw alreadyDecided(current);
  if (current?.expiresAt && (await tasks.hasExpired(id))) {
    throw new ProblemException(409, {
      detail: 'The task has expired; it can no longer be claimed or decided.',
    });
  }
  return current;
}

export function alreadyDecided(task: TaskRow): ProblemException {
  return new ProblemException(409, {
    detail: `The task is no longer open: ${task.status} by ${task.decidedBy} at ${task.decidedAt!.toISOString()}.`,
    extensions: { taskStatus: task.status, decision: toTaskDto(task).decision },
  });
}
