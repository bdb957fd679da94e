import { Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Database } from '../database/database.js';
import { JobRunner } from '../jobs/job-runner.js';
import { SYSTEM_ACTOR, TaskDecisions } from './task-decisions.js';
import { TaskNotifications } from './task-notifications.js';
import { TaskTypes } from './task-types.js';
import { TasksRepository } from './tasks.repository.js';

const BATCH = 100;
const AUTOMATE_JOB = 'tasks.automate';

/**
 * Time-driven work on tasks, as jobs (done once whatever the number of instances, and surviving restarts): every
 * minute, open tasks past `expiresAt` expire, reminders go out once three quarters of the time to `dueAt` is gone, and
 * overdue tasks are escalated. Each task is reminded and escalated once. Automated types decide in a job of their own.
 */
@Injectable()
export class TaskSchedule implements OnModuleInit {
  constructor(
    private readonly db: Database,
    private readonly jobs: JobRunner,
    private readonly tasks: TasksRepository,
    private readonly types: TaskTypes,
    private readonly decisions: TaskDecisions,
    private readonly notifications: TaskNotifications,
    @InjectPinoLogger(TaskSchedule.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    this.jobs.define({ queue: 'tasks.sweep', cron: '* * * * *', handle: () => this.sweep(), retryLimit: 0 });
    this.jobs.define<{ taskId: string }>({
      queue: AUTOMATE_JOB,
      handle: ({ taskId }) => this.automate(taskId),
    });
  }

  /** After a task is created: its type decides (automation) or people are emailed. In the creating transaction. */
  async created(taskId: string, type: string): Promise<void> {
    if (this.types.get(type)?.decide) await this.jobs.enqueue(AUTOMATE_JOB, { taskId });
    else await this.notifications.enqueue(taskId, 'created');
  }

  async sweep(): Promise<void> {
    // One transaction per task: a task whose expiry fails (its type's onDecided throws) is logged and skipped, and
    // does not hold back the others.
    const failed: string[] = [];
    for (let round = 0; round < BATCH; round++) {
      let id: string | undefined;
      try {
        await this.db.transaction(async () => {
          [id] = await this.tasks.lockExpired(1, failed);
          if (id) await this.decisions.decide(id, { outcome: 'expired' }, SYSTEM_ACTOR);
        });
      } catch (error) {
        this.logger.error({ err: error, task: id }, 'cannot expire a task; skipped until the next sweep');
        if (id) failed.push(id);
        continue;
      }
      if (!id) break;
    }
    for (const kind of ['reminder', 'escalation'] as const) {
      await this.db.transaction(async () => {
        for (const id of await this.tasks.markNotified(kind, BATCH))
          await this.notifications.enqueue(id, kind);
      });
    }
  }

  private async automate(taskId: string): Promise<void> {
    const task = await this.tasks.find(taskId);
    if (!task || task.status !== 'open') return;
    // Automation that cannot decide, or whose decision cannot be saved (its type's onDecided throws, say), leaves the
    // task to people, unless it was decided or expired meanwhile.
    try {
      const decision = await this.types.get(task.type)?.decide?.(task);
      if (decision) {
        await this.decisions.decide(taskId, decision, { ...SYSTEM_ACTOR, id: `automation:${task.type}` });
        return;
      }
    } catch (error) {
      const current = await this.tasks.find(taskId);
      if (current?.status !== 'open' || (await this.tasks.hasExpired(taskId))) return;
      this.logger.error({ err: error, task: taskId, type: task.type }, 'automation failed; people are asked');
    }
    await this.db.transaction(() => this.notifications.enqueue(taskId, 'created'));
  }
}
