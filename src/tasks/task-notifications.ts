import type { Counter } from '@opentelemetry/api';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { v5 as uuidv5, v7 as uuidv7 } from 'uuid';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { JobRunner } from '../jobs/job-runner.js';
import { Mailer, type Email } from '../mail/mailer.js';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { escapeHtml } from '../http/html-page.js';
import { utc } from './task-pages.js';
import { TaskLinksRepository } from './task-links.repository.js';
import { TaskSecrets } from './task-secrets.js';
import { TasksRepository, type TaskRow } from './tasks.repository.js';

export type NotificationKind = 'created' | 'reminder' | 'escalation';
/** `linkId` and `queuedAt` are absent from the jobs of earlier releases. */
type EmailJob = {
  taskId: string;
  recipient: string;
  kind: NotificationKind;
  linkId?: string;
  queuedAt?: string;
};

const EMAIL_JOB = 'tasks.email';
/** The namespace of the emails' job ids (UUID v5). */
const EMAIL_JOB_IDS = 'a4d3f0c2-6b1e-4f57-9c8a-2e7d5b3a1f06';
/** An email still failing this long after it was queued is given up on (the job's retries last longer). */
const GIVE_UP_AFTER_MS = 3 * 3_600_000;
/**
 * SES v2 errors that another attempt would meet again (an address the account may not send to, a sender not verified,
 * sending paused, a sender the task role may not send as): the email fails for good at once, counted, so that the
 * alarm says so within minutes.
 */
const FINAL_MAIL_ERRORS = new Set([
  'MessageRejected',
  'AccessDeniedException',
  'MailFromDomainNotVerifiedException',
  'AccountSuspendedException',
  'SendingPausedException',
  'BadRequestException',
  'NotFoundException',
]);
/** The characters of a task's description an email quotes; the page shows all of it. */
const SUMMARY_LENGTH = 280;
/** A link outlives the due date by this much (unless the task expires sooner). */
const LINK_GRACE_MS = 7 * 86_400_000;
const SUBJECTS: Record<NotificationKind, string> = {
  created: 'New task',
  reminder: 'Due soon',
  escalation: 'Overdue',
};

/**
 * Emails operators (TASKS_NOTIFY_EMAILS) about an open task, each with a link of their own that decides it: when the
 * task is created, as a reminder before it is due, and when it is overdue. One job per recipient, queued in the
 * transaction that calls for it.
 */
@Injectable()
export class TaskNotifications implements OnModuleInit {
  private readonly failed: Counter;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly jobs: JobRunner,
    private readonly tasks: TasksRepository,
    private readonly links: TaskLinksRepository,
    private readonly secrets: TaskSecrets,
    private readonly mailer: Mailer,
    metrics: BusinessMetrics,
    @InjectPinoLogger(TaskNotifications.name) private readonly logger: PinoLogger,
  ) {
    this.failed = metrics.counter(
      'runway.tasks.emails_failed',
      'Task emails that failed for good',
      '{email}',
    );
  }

  onModuleInit(): void {
    this.jobs.define<EmailJob>({
      queue: EMAIL_JOB,
      handle: (job) => this.email(job),
      // 30 s, doubling up to 15 min, through an outage of the mail service or its throttling: the first attempt
      // after 3 hours gives up. A task decided or expired meanwhile is not emailed about any more.
      retryLimit: 30,
      retryDelaySeconds: 30,
      retryDelayMaxSeconds: 900,
    });
  }

  /**
   * Each email of a kind about a task is queued once, whatever asks for it again (an automation's job run twice): its
   * job's id is made of the task, the kind and the recipient.
   */
  async enqueue(taskId: string, kind: NotificationKind): Promise<void> {
    for (const recipient of this.config.tasks.notifyEmails) {
      const job: EmailJob = { taskId, recipient, kind, linkId: uuidv7(), queuedAt: new Date().toISOString() };
      await this.jobs.enqueue(EMAIL_JOB, job, {
        id: uuidv5(`${taskId} ${kind} ${recipient}`, EMAIL_JOB_IDS),
      });
    }
  }

  // The link's id comes with the job: a job run again (after the email left, before the job was marked done) sends
  // the same link again, not a second one.
  private async email({ taskId, recipient, kind, linkId = uuidv7(), queuedAt }: EmailJob): Promise<void> {
    const task = await this.tasks.find(taskId);
    if (!task || task.status !== 'open') return;
    const expiresAt = new Date(
      Math.min(task.dueAt.getTime() + LINK_GRACE_MS, task.expiresAt?.getTime() ?? Infinity),
    );
    if (expiresAt.getTime() <= Date.now()) return;
    await this.links.insert({ id: linkId, taskId, recipient, expiresAt });
    const link = `${this.config.publicBaseUrl}/t/${this.secrets.signLink({ linkId, taskId, recipient, expiresAt })}`;
    try {
      await this.mailer.send(render(task, kind, recipient, link));
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      const late = Date.now() - new Date(queuedAt ?? Date.now()).getTime() > GIVE_UP_AFTER_MS;
      if (!FINAL_MAIL_ERRORS.has(name) && !late) throw error;
      this.failed.add(1, { kind, error: name });
      this.logger.warn({ err: error, task: taskId, kind }, 'task email failed for good');
      return;
    }
    // Locally there is no mailbox: the link is printed so that a developer can click it. Only in development.
    if (this.mailer.directory && this.config.env === 'development') {
      this.logger.info(`task ${kind} email for ${recipient}: ${link}`);
    }
  }
}

function render(task: TaskRow, kind: NotificationKind, to: string, link: string): Email {
  const due = `Due ${utc(task.dueAt)}`;
  const description = task.description && [...task.description];
  const summary = description
    ? `${description.slice(0, SUMMARY_LENGTH).join('')}${description.length > SUMMARY_LENGTH ? '…' : ''}`
    : `A ${task.type} task needs a yes or no.`;
  const subject = `[Runway] ${SUBJECTS[kind]}: ${task.title}`;
  return {
    to,
    subject,
    text: `${task.title}\n\n${summary}\n\n${due}.\n\nApprove or reject (the link works once): ${link}\n`,
    html: `<!doctype html><html><body><h1 style="font-size:18px">${escapeHtml(task.title)}</h1>
<p>${escapeHtml(summary).replace(/\r\n?|\n/g, '<br>')}</p><p>${escapeHtml(due)}.</p>
<p><a href="${escapeHtml(link)}">Approve or reject</a> (the link works once).</p></body></html>`,
  };
}
