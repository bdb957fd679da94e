import { Inject, Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service.js';
import type { AuthenticatedUser } from '../auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { notFound } from '../http/problem.js';
import { Clock } from '../utils/clock.js';
import { addDays, dayIn } from './days.js';
import { InsightsRepository } from './insights.repository.js';
import {
  DEFAULT_ACTIVITY_DAYS,
  LATEST_EVENTS,
  type ActivityQuery,
  type UserActivityDto,
} from './user-activity.dto.js';

/** One user's activity, for operators: their active days and latest events. */
@Injectable()
export class UserActivityService {
  private readonly timeZone: string;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly insights: InsightsRepository,
    private readonly clock: Clock,
    private readonly audit: AuditService,
  ) {
    this.timeZone = config.analytics.timeZone;
  }

  /** An operator looking at one person's data: recorded in the audit log, as listing users is. */
  async activity(
    userId: string,
    query: ActivityQuery,
    operator: AuthenticatedUser,
  ): Promise<UserActivityDto> {
    const today = dayIn(this.timeZone, this.clock.now());
    // The query holds both ends or neither.
    const from = query.from ?? addDays(today, 1 - DEFAULT_ACTIVITY_DAYS);
    const to = query.to ?? today;
    const activity = await this.insights.userActivity(userId, from, to, LATEST_EVENTS, this.timeZone);
    if (!activity) throw notFound('user');
    await this.audit.record({
      actorKind: 'user',
      actorId: operator.userId,
      action: 'user.activity_viewed',
      targetType: 'user',
      targetId: userId,
      via: 'api',
      details: { from, to },
    });
    return { userId, ...activity };
  }
}
