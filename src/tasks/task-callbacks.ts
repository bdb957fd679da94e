import { Injectable, type OnModuleInit } from '@nestjs/common';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import type { Counter } from '@opentelemetry/api';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobRunner } from '../jobs/job-runner.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { CALLBACK_JOB } from './task-decisions.js';
import { TaskSecrets } from './task-secrets.js';
import { TasksRepository, type TaskRow } from './tasks.repository.js';

/** Step Functions' answers that no retry can change: the execution no longer waits for this token. */
const FINAL_ERRORS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

const FAILURE_ERRORS = {
  rejected: 'Runway.Rejected',
  cancelled: 'Runway.Cancelled',
  expired: 'Runway.Expired',
};

/**
 * Resumes the Step Functions execution that waits for a decided task (SendTaskSuccess, or SendTaskFailure with a
 * Runway.* error). The call is a job queued in the decision's transaction: a crash after the decision delays it, never
 * loses it. The SDK retries a failed call itself (3 attempts); the job is then retried with backoff and jitter for
 * about an hour. Final errors are recorded on the task (callback: failed) and not retried.
 */
@Injectable()
export class TaskCallbacks implements OnModuleInit {
  private client?: SFNClient;
  private readonly failed: Counter;

  constructor(
    private readonly jobs: JobRunner,
    private readonly tasks: TasksRepository,
    private readonly secrets: TaskSecrets,
    metrics: BusinessMetrics,
    @InjectPinoLogger(TaskCallbacks.name) private readonly logger: PinoLogger,
  ) {
    this.failed = metrics.counter(
      'runway.tasks.callbacks_failed',
      'Step Functions callbacks that failed for good',
      '{callback}',
    );
  }

  onModuleInit(): void {
    this.jobs.define<{ taskId: string }>({
      queue: CALLBACK_JOB,
      handle: ({ taskId }) => this.deliver(taskId),
      retryLimit: 8,
      retryDelaySeconds: 15,
      retryDelayMaxSeconds: 900,
      expireInSeconds: 60,
    });
  }

  async deliver(taskId: string): Promise<void> {
    const task = await this.tasks.find(taskId);
    if (!task || task.callbackStatus !== 'pending' || task.status === 'open') return;
    const stored = await this.tasks.encryptedToken(taskId);
    if (!stored) return;
    try {
      await this.send(task, this.secrets.decryptToken(stored));
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (!FINAL_ERRORS.has(name)) throw error;
      const reason = `${name}: ${(error as Error).message}`.slice(0, 500);
      await this.tasks.settleCallback(taskId, 'failed', reason);
      this.failed.add(1, { type: task.type });
      this.logger.warn({ task: taskId, reason: name }, 'Step Functions callback failed for good');
      return;
    }
    await this.tasks.settleCallback(taskId, 'delivered', null);
  }

  private async send(task: TaskRow, taskToken: string): Promise<void> {
    this.client ??= new SFNClient({});
    if (task.status === 'approved') {
      await this.client.send(
        new SendTaskSuccessCommand({
          taskToken,
          output: JSON.stringify({
            taskId: task.id,
            outcome: task.status,
            comment: task.decisionComment,
            decidedBy: task.decidedBy,
            decidedAt: task.decidedAt!.toISOString(),
          }),
        }),
      );
      return;
    }
    await this.client.send(
      new SendTaskFailureCommand({
        taskToken,
        error: FAILURE_ERRORS[task.status as keyof typeof FAILURE_ERRORS],
        cause: task.decisionComment ?? `The task was ${task.status}.`,
      }),
    );
  }
}
