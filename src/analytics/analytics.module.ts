import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ActivityGuard } from './activity.guard.js';
import { ActivityRepository } from './activity.repository.js';
import { AnalyticsService } from './analytics.service.js';
import { EventNames } from './event-names.js';
import { EventNamesRepository } from './event-names.repository.js';
import { EventPartitions } from './event-partitions.js';
import { EventsController } from './events.controller.js';
import { InsightsController } from './insights.controller.js';
import { InsightsRepository } from './insights.repository.js';
import { InsightsService } from './insights.service.js';
import { PartitionsRepository } from './partitions.repository.js';
import { RollupsRepository } from './rollups.repository.js';
import { UserActivityController } from './user-activity.controller.js';
import { UserActivityService } from './user-activity.service.js';
import { AuditModule } from '../audit/audit.module.js';
import { TasksModule } from '../tasks/tasks.module.js';

/**
 * Product analytics from the app's own database: events and activity in (POST /v1/events, `track`, every signed-in
 * request), answers out (GET /v1/admin/analytics/*, GET /v1/admin/users/:id/activity). Other features record through
 * {@link AnalyticsService}.
 */
@Module({
  imports: [AuditModule, TasksModule],
  controllers: [EventsController, InsightsController, UserActivityController],
  providers: [
    AnalyticsService,
    ActivityRepository,
    RollupsRepository,
    InsightsService,
    InsightsRepository,
    UserActivityService,
    EventPartitions,
    PartitionsRepository,
    EventNames,
    EventNamesRepository,
    { provide: APP_GUARD, useClass: ActivityGuard },
  ],
  exports: [AnalyticsService],
})
export class AnalyticsModule {}
