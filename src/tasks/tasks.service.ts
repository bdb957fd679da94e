import { Injectable } from '@nestjs/common';
import type { Counter } from '@opentelemetry/api';
import { v7 as uuidv7 } from 'uuid';
import { AuditService } from '../audit/audit.service.js';
import { ADMIN_ROLE, type AuthenticatedUser, type Principal } from '../auth/principal.js';
import { Database } from '../database/database.js';
import type { ExpectedVersion } from '../database/versioning.js';
import { decodeCursor, toPage, type Page } from '../http/pagination.js';
import { versionedWrite } from '../http/preconditions.js';
import { notFound, ProblemException } from '../http/problem.js';
import { invalid, isUuid, type FieldError } from '../http/validation.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { findActionable, SYSTEM_ACTOR, TaskDecisions, type Actor } from './task-decisions.js';
import { TaskSchedule } from './task-schedule.js';
import { TaskSecrets } from './task-secrets.js';
import { TaskTokens } from './task-tokens.js';
import { payloadErrors, TaskTypes } from './task-types.js';
import { ABOUT_DELETED_USER, toTaskDto } from './task-view.js';
import { MAX_PAYLOAD_BYTES, type CreateTaskDto, type ListTasksQuery, type TaskDto } from './tasks.dto.js';
import { TasksRepository, type TaskRow } from './tasks.repository.js';

const HOUR_MS = 3_600_000;
const MAX_HORIZON_MS = 366 * 24 * HOUR_MS;

/** Who created a task: a signed-in user (an admin, or a feature acting for its user), a machine client, or the app. */
export type Creator = { kind: 'user' | 'machine' | 'system'; id: string };

/** Creating, reading, claiming and cancelling tasks; deciding goes through TaskDecisions. */
@Injectable()
export class TasksService {
  private readonly created: Counter;

  constructor(
    private readonly db: Database,
    private readonly tasks: TasksRepository,
    private readonly types: TaskTypes,
    private readonly secrets: TaskSecrets,
    private readonly tokens: TaskTokens,
    private readonly decisions: TaskDecisions,
    private readonly schedule: TaskSchedule,
    private readonly audit: AuditService,
    metrics: BusinessMetrics,
  ) {
    this.created = metrics.counter('runway.tasks.created', 'Tasks created', '{task}');
  }

  /**
   * For the API and for domain code (in the caller's transaction when there is one, which may choose the id). A Step
   * Functions token makes one task: sent again (a retry, a redrive of EventBridge's dead letters), it answers the task
   * it made, `existing`, whatever became of it, so that one execution step never has two tasks to decide.
   */
  async create(
    input: CreateTaskDto,
    creator: Creator,
    id: string = uuidv7(),
  ): Promise<{ task: TaskDto; existing: boolean }> {
    const type = this.types.get(input.type);
    if (!type) {
      throw new ProblemException(422, {
        detail: `Unknown task type ${input.type}; known types: ${this.types.names.join(', ')}.`,
      });
    }
    // Before the checks of dates: a token sent again after its task's expiresAt still finds its task.
    const tokenDigest = input.taskToken ? this.tokens.digest(input.taskToken) : null;
    const made = tokenDigest && (await this.tokens.madeFor(tokenDigest));
    if (made) return { task: toTaskDto(made), existing: true };
    const payload = input.payload ?? {};
    const now = Date.now();
    const dueAt = input.dueAt ? new Date(input.dueAt) : new Date(now + (type.dueWithinHours ?? 24) * HOUR_MS);
    const expiresAt = input.expiresAt ? new Date(input.expiresAt) : null;
    const errors: FieldError[] = [
      ...(Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD_BYTES
        ? [{ pointer: '/payload', detail: 'payload must be at most 16 KiB serialized' }]
        : payloadErrors(type, payload)),
      ...futureErrors('dueAt', dueAt, now),
      ...(expiresAt ? futureErrors('expiresAt', expiresAt, now) : []),
    ];
    if (errors.length > 0) throw invalid(errors);
    if (input.subjectUserId && !(await this.tasks.userExists(input.subjectUserId))) {
      throw new ProblemException(422, { detail: 'subjectUserId names no user.' });
    }
    const row = await this.db.transaction(async () => {
      const inserted = await this.tasks.insert({
        id,
        type: type.name,
        title: input.title,
        description: input.description ?? '',
        payload,
        subjectUserId: input.subjectUserId ?? null,
        dueAt,
        expiresAt,
        createdByKind: creator.kind,
        createdById: creator.id,
        encryptedToken: input.taskToken ? this.secrets.encryptToken(input.taskToken) : null,
        tokenDigest,
      });
      if (!inserted) return undefined;
      await this.audit.record({
        actorKind: creator.kind,
        actorId: creator.id,
        action: 'task.created',
        targetType: 'task',
        targetId: inserted.id,
        via: creator.kind === 'system' ? 'system' : 'api',
        // Not the title: it may hold what the task's subject wrote, which their deletion erases (forgetUser).
        details: { type: inserted.type },
      });
      await this.schedule.created(inserted.id, inserted.type);
      return inserted;
    });
    // Made meanwhile by a request sending the same token.
    if (!row) return { task: toTaskDto((await this.tasks.withToken(tokenDigest!))!), existing: true };
    this.created.add(1, { type: row.type });
    return { task: toTaskDto(row), existing: false };
  }

  async get(id: string): Promise<TaskDto> {
    return toTaskDto(await this.found(id));
  }

  async list(query: ListTasksQuery): Promise<Page<TaskDto>> {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isCursor).split('|');
    const rows = await this.tasks.list({
      limit: query.limit + 1,
      status: query.status,
      type: query.type,
      assigneeId: query.assignee,
      after: cursor && { dueAt: new Date(cursor[0]!), id: cursor[1]! },
    });
    return toPage(rows, query.limit, toTaskDto, (row) => `${row.dueAt.toISOString()}|${row.id}`);
  }

  async claim(id: string, operator: AuthenticatedUser, expected: ExpectedVersion): Promise<TaskDto> {
    const row = await this.db.transaction(async () => {
      const claimed = await versionedWrite(
        {
          name: 'task',
          find: async () => {
            const current = await findActionable(this.tasks, id);
            if (expected !== 'any' || !current) return current;
            // Without If-Match no version can be stale: the claim met someone else's, or a change under way.
            const holder = current.assigneeId !== operator.userId ? current.assigneeId : null;
            throw new ProblemException(
              409,
              holder
                ? {
                    detail: `The task is claimed by ${holder}; to take it over, claim with If-Match: "${current.version}".`,
                    extensions: { assignee: holder },
                  }
                : { detail: 'The task changed while it was claimed; try again.' },
            );
          },
        },
        () => this.tasks.claim(id, operator.userId, expected),
      );
      const actor = actorOf(operator);
      await this.audit.record({
        actorKind: actor.kind,
        actorId: actor.id,
        action: 'task.claimed',
        targetType: 'task',
        targetId: id,
        via: 'api',
        details: { assignee: operator.userId },
      });
      return claimed;
    });
    return toTaskDto(row);
  }

  async decide(
    id: string,
    decision: { outcome: 'approved' | 'rejected'; comment?: string },
    operator: AuthenticatedUser,
    expected: ExpectedVersion,
  ): Promise<TaskDto> {
    return toTaskDto(await this.decisions.decide(id, decision, actorOf(operator), expected));
  }

  /** Admins cancel any task; any other caller (a machine client) only the tasks it created (others are 404 to it). */
  async cancel(id: string, reason: string, caller: Principal, expected: ExpectedVersion): Promise<TaskDto> {
    const task = await this.found(id);
    const actor = actorOf(caller);
    const isCreator = task.createdByKind === actor.kind && task.createdById === actor.id;
    if (!isCreator && !(caller.kind === 'user' && caller.groups.includes(ADMIN_ROLE))) throw notFound('task');
    return toTaskDto(
      await this.decisions.decide(id, { outcome: 'cancelled', comment: reason }, actor, expected),
    );
  }

  /** Cancels a task if still open, even past `expiresAt` (a decided one stays): by the system, or its purpose's end. */
  async cancelIfOpen(id: string, reason: string, actor: Actor = SYSTEM_ACTOR): Promise<void> {
    if (await this.tasks.lockIfOpen(id))
      await this.decisions.decide(id, { outcome: 'cancelled', comment: reason, cleanup: true }, actor);
  }

  /**
   * In the transaction that deletes a user. Tasks about them lose title, description, payload and people's comments,
   * in the audit trail too (with the titles releases before DropTaskTitlesFromAudit copied there); then the open ones
   * are cancelled (a waiting workflow resumes with `Runway.Cancelled`). A task they decided no longer names them.
   */
  async forgetUser(userId: string): Promise<void> {
    const redacted = await this.tasks.redactAbout(userId, ABOUT_DELETED_USER.title);
    await this.audit.dropDetails('task', redacted, ['title', 'comment']);
    for (const id of await this.tasks.openAbout(userId)) {
      await this.cancelIfOpen(id, 'The user the task was about was deleted.');
    }
    await this.decisions.forgetDecider(userId);
  }

  private async found(id: string): Promise<TaskRow> {
    const row = await this.tasks.find(id);
    if (!row) throw notFound('task');
    return row;
  }
}

/** The caller as the audit log and the task record them. */
export function actorOf(caller: Principal | AuthenticatedUser): Actor {
  if (caller.kind === 'machine')
    return { kind: 'machine', id: caller.clientId, name: caller.clientId, via: 'api' };
  const user = caller as AuthenticatedUser;
  return { kind: 'user', id: user.userId, name: user.email ?? user.username ?? user.userId, via: 'api' };
}

function futureErrors(field: string, at: Date, now: number): FieldError[] {
  // ISO 8601 has forms (week dates, ordinal dates) that Date cannot read.
  if (Number.isNaN(at.getTime())) {
    return [{ pointer: `/${field}`, detail: `${field} must be a date-time such as 2030-01-31T09:00:00Z` }];
  }
  if (at.getTime() <= now) return [{ pointer: `/${field}`, detail: `${field} must be in the future` }];
  if (at.getTime() > now + MAX_HORIZON_MS) {
    return [{ pointer: `/${field}`, detail: `${field} must be within a year` }];
  }
  return [];
}

/** `<dueAt>|<id>`, the inbox order's keyset: a real instant as toISOString writes it, and a UUID. */
function isCursor(after: string): boolean {
  const [dueAt = '', id = '', ...rest] = after.split('|');
  const instant = new Date(dueAt);
  // Four-digit years only: toISOString writes others (+275760, -004714) that PostgreSQL cannot hold.
  return (
    rest.length === 0 &&
    isUuid(id) &&
    /^\d{4}-/.test(dueAt) &&
    !Number.isNaN(instant.getTime()) &&
    instant.toISOString() === dueAt
  );
}
