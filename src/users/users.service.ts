import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Counter } from '@opentelemetry/api';
import { LRUCache } from 'lru-cache';
import { v7 as uuidv7 } from 'uuid';
import { AnalyticsService } from '../analytics/analytics.service.js';
import { AuditService } from '../audit/audit.service.js';
import { ADMIN_ROLE, isSynthetic, type AuthenticatedUser, type Principal } from '../auth/principal.js';
import { UserProvisioning } from '../auth/user-provisioning.js';
import { Database } from '../database/database.js';
import { IdempotencyService } from '../http/idempotency/idempotency.service.js';
import { JobRunner } from '../jobs/job-runner.js';
import { decodeCursor, toPage, type Page } from '../http/pagination.js';
import { ProblemException } from '../http/problem.js';
import { retryAfter } from '../http/retry-after.js';
import { isUuid } from '../http/validation.js';
import { ABOUT_DELETED_USER } from '../tasks/task-view.js';
import { TasksService } from '../tasks/tasks.service.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { toJson } from '../utils/json.js';
import type { AdminUserDto, ListUsersQuery, MeDto, UpdateMeDto } from './users.dto.js';
import { UsersRepository, type UserRow } from './users.repository.js';

/**
 * How long a deletion is remembered: as long as a token of a sign-in before it can be used. Cognito's refresh tokens
 * last 30 days (the pool's RefreshTokenValidity) and keep their sign-in's `auth_time` in the access tokens they give.
 */
const DELETIONS_KEPT_MS = 31 * 86_400_000;
/** Sign-ins of one user remembered: one per device they use at once, for most users. */
const SIGN_INS_KEPT = 8;

@Injectable()
export class UsersService implements UserProvisioning, OnModuleInit {
  /**
   * Cognito sub → users.id of users known to exist and the sign-ins (`auth_time`) checked against deletions, so
   * provisioning costs no query on most requests. Another instance may delete a user; entries therefore expire after a
   * few minutes.
   */
  private readonly provisioned = new LRUCache<string, { userId: string; signIns: number[] }>({
    max: 10_000,
    ttl: 5 * 60_000,
  });

  private readonly provisionedCount: Counter;

  constructor(
    private readonly db: Database,
    private readonly users: UsersRepository,
    private readonly analytics: AnalyticsService,
    private readonly audit: AuditService,
    private readonly idempotency: IdempotencyService,
    private readonly tasks: TasksService,
    private readonly jobs: JobRunner,
    metrics: BusinessMetrics,
  ) {
    this.provisionedCount = metrics.counter(
      'runway.users.provisioned',
      'Users created on their first signed-in request',
      '{user}',
    );
  }

  onModuleInit(): void {
    this.jobs.define({
      queue: 'users.deletions.purge',
      cron: '17 3 * * *',
      handle: async () =>
        void (await this.users.forgetDeletedBefore(new Date(Date.now() - DELETIONS_KEPT_MS))),
    });
  }

  /**
   * Just-in-time provisioning: the user's row, created on their first request, its email following the token's once
   * the remembered id expires. Safe under concurrency.
   */
  async userIdFor(principal: Principal): Promise<string> {
    const known = this.provisioned.get(principal.sub);
    const signedInAt = new Date(principal.signedInAt * 1000);
    // Only for tokens of a sign-in already checked: another may be of before a deletion through another instance, or
    // of the account made again since.
    if (known?.signIns.includes(principal.signedInAt)) {
      // An admin sees and decides for others: their deletion ends that at once on every instance, not when each
      // forgets them (one indexed read per request, on back-office traffic only).
      if (!principal.groups.includes(ADMIN_ROLE)) return known.userId;
      if (!(await this.users.deletedAfter(principal.sub, signedInAt))) return known.userId;
      this.forget(principal.sub);
      throw accountDeleted();
    }
    const id = uuidv7();
    const stored = await this.users.insertOrRefresh(
      {
        id,
        cognitoSub: principal.sub,
        username: principal.username ?? principal.sub,
        email: principal.email ?? null,
        emailIssuedAt: principal.email ? new Date(principal.issuedAt * 1000) : null,
      },
      signedInAt,
    );
    // A statement of its own, after the insert: it sees a deletion that committed while the insert waited for it.
    if (await this.users.deletedAfter(principal.sub, signedInAt)) {
      if (stored === id) await this.users.delete(id);
      throw accountDeleted();
    }
    if (stored === id && !isSynthetic(principal)) {
      this.provisionedCount.add(1);
      await this.analytics.track(id, 'user.signed_up');
    }
    const userId = stored ?? (await this.users.idOf(principal.sub));
    if (!userId) {
      // Deleted between the insert attempt and this read (DELETE /v1/me racing a first request).
      throw userChanging();
    }
    const signIns = known?.userId === userId ? known.signIns.slice(1 - SIGN_INS_KEPT) : [];
    this.provisioned.set(principal.sub, { userId, signIns: [...signIns, principal.signedInAt] });
    return userId;
  }

  forget(sub: string): void {
    this.provisioned.delete(sub);
  }

  /**
   * A user deleted (through another instance) since this one cached their id: created again, as a first request
   * creates them, and read back; 409 if they are being deleted once more meanwhile.
   */
  private async provisionedAgain(caller: AuthenticatedUser): Promise<UserRow> {
    this.forget(caller.sub);
    const user = await this.users.find(await this.userIdFor(caller));
    if (!user) throw userChanging();
    return user;
  }

  async me(caller: AuthenticatedUser): Promise<MeDto> {
    return profileOf((await this.users.find(caller.userId)) ?? (await this.provisionedAgain(caller)), caller);
  }

  /** A user deleted through another instance meanwhile is provisioned again, and the change applies to them. */
  async updateMe(caller: AuthenticatedUser, changes: UpdateMeDto): Promise<MeDto> {
    const { displayName } = changes;
    if (displayName === undefined) return this.me(caller);
    const user =
      (await this.users.setDisplayName(caller.userId, displayName)) ??
      (await this.users.setDisplayName((await this.provisionedAgain(caller)).id, displayName));
    if (!user) throw userChanging();
    return profileOf(user, caller);
  }

  /**
   * Removes the user's row and, through foreign keys, everything they own in Runway, their analytics and the responses
   * their Idempotency-Keys stored included; tasks about them, and the responses stored for others about them, are
   * redacted (open tasks cancelled), as are the tasks they decided and operators' searches that found them. The row is found by the token's sub, not by the id this instance knows:
   * another instance may have deleted the user and provisioned them again since.
   */
  async deleteMe(caller: AuthenticatedUser): Promise<void> {
    await this.db.transaction(async () => {
      // Locked first: another instance's first request of a new sign-in then waits for the deletion, and makes the
      // new user after it, instead of taking the id about to go.
      const userId = await this.users.lockBySub(caller.sub);
      // A token of before a deletion (through another instance, which still remembers the user) must not delete the
      // account made since.
      if (await this.users.deletedAfter(caller.sub, new Date(caller.signedInAt * 1000)))
        throw accountDeleted();
      await this.users.rememberDeleted(caller.sub);
      if (!userId) return;
      const user = (await this.users.find(userId))!;
      // Searches match a username only where it is not the sub (a pool that signs in by email has no other).
      const names = [user.username === caller.sub ? '' : user.username, user.email ?? ''];
      await this.audit.forgetSearchesFor(names, 'a deleted user');
      await this.tasks.forgetUser(userId);
      await this.analytics.eraseUser(userId);
      await this.idempotency.forgetUser(userId, ABOUT_DELETED_USER);
      await this.users.delete(userId);
    });
    this.provisioned.delete(caller.sub);
  }

  /** An operator looking at people's data: recorded in the audit log like every other admin action. */
  async list(query: ListUsersQuery, operator: AuthenticatedUser): Promise<Page<AdminUserDto>> {
    const rows = await this.users.list({
      limit: query.limit + 1,
      afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor, isUuid),
      prefix: query.q,
    });
    await this.audit.record({
      actorKind: 'user',
      actorId: operator.userId,
      action: 'users.listed',
      targetType: 'users',
      targetId: query.q ?? '*',
      via: 'api',
      details: { q: query.q ?? null },
    });
    return toPage(rows, query.limit, toJson, (user) => user.id);
  }
}

function profileOf(user: UserRow, caller: AuthenticatedUser): MeDto {
  return {
    id: user.id,
    username: user.username,
    ...(caller.email ? { email: caller.email } : {}),
    displayName: user.displayName,
    groups: [...caller.groups],
    createdAt: user.createdAt.toISOString(),
  };
}

/** A token of a sign-in before the account was deleted: a new sign-in (a new, empty user) is needed. */
function accountDeleted(): ProblemException {
  return new ProblemException(401, {
    detail: 'This account was deleted; sign in again.',
    headers: {
      'www-authenticate': 'Bearer error="invalid_token", error_description="the account was deleted"',
    },
  });
}

/** Deleted (DELETE /v1/me, perhaps through another instance) while this request was being answered. */
function userChanging(): ProblemException {
  return new ProblemException(409, {
    detail: 'The user is being changed; retry.',
    headers: retryAfter('userChanging'),
  });
}
