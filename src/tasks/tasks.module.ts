import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { MailModule } from '../mail/mail.module.js';
import { TaskCallbacks } from './task-callbacks.js';
import { TaskDecisions } from './task-decisions.js';
import { TaskLinksController } from './task-links.controller.js';
import { TaskLinksRepository } from './task-links.repository.js';
import { TaskLinks } from './task-links.service.js';
import { TaskNotifications } from './task-notifications.js';
import { TaskSchedule } from './task-schedule.js';
import { TaskSecrets } from './task-secrets.js';
import { TaskTokens } from './task-tokens.js';
import { TaskStatistics } from './task-statistics.js';
import { TaskStatisticsRepository } from './task-statistics.repository.js';
import { TaskTypes } from './task-types.js';
import { AdminTasksController, TasksController } from './tasks.controller.js';
import { TasksRepository } from './tasks.repository.js';
import { TasksService } from './tasks.service.js';

/**
 * Manual tasks ("fake it until you make it"): created by the app, a machine client or a Step Functions workflow,
 * decided by an operator through the API or an emailed link, audited, and resumed in Step Functions. Other features
 * define their task types through TaskTypes and open tasks through TasksService.
 */
@Module({
  imports: [AuditModule, MailModule],
  controllers: [TasksController, AdminTasksController, TaskLinksController],
  providers: [
    TasksService,
    TasksRepository,
    TaskTypes,
    TaskDecisions,
    TaskCallbacks,
    TaskNotifications,
    TaskSchedule,
    TaskSecrets,
    TaskTokens,
    TaskLinks,
    TaskLinksRepository,
    TaskStatistics,
    TaskStatisticsRepository,
  ],
  exports: [TasksService, TaskTypes, TaskStatistics],
})
export class TasksModule {}
