import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Counter } from '@opentelemetry/api';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { JobRunner } from '../jobs/job-runner.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { AWS_REQUEST_HANDLER } from '../utils/aws.js';
import { CALLBACK_JOB } from './task-decisions.js';
import { TaskSecrets } from './task-secrets.js';
import { TasksRepository, type TaskRow } from './tasks.repository.js';

/** Step Functions' answers that no retry can change: the execution no longer waits for this token. */
const FINAL_ERRORS: Record<string, string> = {
  TaskTimedOut: 'the execution stopped waiting (timed out, or already answered)',
  TaskDoesNotExist: 'the execution no longer exists',
  InvalidToken: 'Step Functions does not recognise the task token',
};
/** After this long, a callback that keeps failing (Step Functions unreachable, permissions) is recorded as failed. */
const GIVE_UP_AFTER_MS = 24 * 3_600_000;

const FAILURE_ERRORS = {
  rejected: 'Runway.Rejected',
  cancelled: 'Runway.Cancelled',
  expired: 'Runway.Expired',
};

/**
 * Resumes the Step Functions execution that waits for a decided task (SendTaskSuccess, or SendTaskFailure with a
 * Runway.* error). The call is a job queued in the decision's transaction: a crash after the decision delays it, never
 * loses it. The SDK retries a failed call itself (3 attempts); the job is then retried with backoff and jitter, for
 * 24 hours, after which the task records the failure. Final errors are recorded at once and not retried.
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
      // 5 s, doubling up to 15 min: more than 24 hours in all; the first attempt after 24 h records the failure.
      retryLimit: 150,
      retryDelaySeconds: 5,
      retryDelayMaxSeconds: 900,
      expireInSeconds: 60,
    });
  }

  async deliver(taskId: string): Promise<void> {
    const task = await this.tasks.find(taskId);
    if (!task || task.callbackStatus !== 'pending' || task.status === 'open') return;
    const stored = await this.tasks.encryptedToken(taskId);
    if (!stored) return;
    // Counted before the call: a final error after an earlier attempt may mean that attempt got through.
    const attempt = await this.tasks.countCallbackAttempt(taskId);
    try {
      await this.send(task, this.secrets.decryptToken(stored));
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      const final = FINAL_ERRORS[name];
      const late = Date.now() - task.decidedAt!.getTime() > GIVE_UP_AFTER_MS;
      if (!final && !late) throw error;
      // The SDK's own retries are earlier attempts too.
      const sdkAttempts = (error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1;
      const reason = final
        ? `${name}: ${final}${attempt > 1 || sdkAttempts > 1 ? ' (an earlier attempt may have resumed it)' : ''}`
        : `${name}: still failing 24 hours after the decision`;
      if (await this.tasks.settleCallback(taskId, 'failed', reason)) {
        this.failed.add(1, { type: task.type, error: name });
        this.logger.warn({ task: taskId, error: name, attempt }, 'Step Functions callback failed for good');
      }
      return;
    }
    await this.tasks.settleCallback(taskId, 'delivered', null);
  }

  private async send(task: TaskRow, taskToken: string): Promise<void> {
    // A hung call ends after 10 s (AWS_REQUEST_HANDLER), its 3 attempts well before the job's own expiry (60 s),
    // which would run it again meanwhile. The SDK is loaded on first use: most processes never call Step Functions.
    const { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } = await import('@aws-sdk/client-sfn');
    this.client ??= new SFNClient({ requestHandler: AWS_REQUEST_HANDLER });
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
