import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { setTimeout as delay } from 'node:timers/promises';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { JobResult, PgBoss } from 'pg-boss';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DatabaseIdleness, type Sleeper } from '../database/database-idleness.js';
import { Database } from '../database/database.js';
import { MigrationStatus } from '../database/migration-status.js';
import { PROBLEM_TYPES, ProblemException } from '../http/problem.js';
import { retryAfter } from '../http/retry-after.js';
import { retryWithBackoff } from '../utils/retry.js';
import { queueSettings, type JobDefinition } from './job-definition.js';
import { createPgBoss } from './pg-boss.js';

const ignore = () => undefined;
const yes = () => true;

const WORKER_POLL_SECONDS = 2;
const BATCH = 5;
const STOP_OPTIONS = { graceful: true, timeout: 10_000 };
/** pg-boss's stop also waits for its connections to close, which a database that stops answering never allows. */
const STOP_BOUND_MS = STOP_OPTIONS.timeout + 1_000;
/** A job sent before its queue is declared waits this long at most: a first boot declares them well within it. */
const QUEUE_WAIT_MS = 5_000;
const MIGRATIONS_RECHECK_MS = 1_000;

/**
 * The one job runner (pg-boss on PostgreSQL): scheduled work and side effects deferred until a transaction commits.
 * Jobs live in the database, so they survive restarts, are done once across instances (SKIP LOCKED) and are retried
 * with exponential backoff and jitter. A feature defines its jobs at module init and enqueues them in its
 * transaction: the job exists only if the change it belongs to commits (an outbox). While the database is idle
 * (DatabaseIdleness) the runner stops, and starts again on the next request that needs the database.
 */
@Injectable()
export class JobRunner implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, Sleeper {
  private readonly definitions = new Map<string, JobDefinition>();
  private readonly declared = new Set<string>();
  /** Queues with a worker since the last stop: a start retried after a partial failure adds none again. */
  private readonly working = new Set<string>();
  private boss: PgBoss;
  private readonly stopping = new AbortController();
  /** The last start or stop asked for; each waits for the one before. */
  private transition?: Promise<void>;
  private running = false;
  /** Put to sleep (the database idle): no runner is expected until a wake starts one, whatever the last stop did. */
  private asleep = false;
  /** The last stop was given up on: that PgBoss is left to end on its own. */
  private abandoned = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly database: Database,
    private readonly migrations: MigrationStatus,
    idleness: DatabaseIdleness,
    @InjectPinoLogger(JobRunner.name) private readonly logger: PinoLogger,
  ) {
    idleness.register(this);
    this.boss = this.createBoss();
  }

  private createBoss(): PgBoss {
    const boss = createPgBoss(this.config.database);
    boss.on('error', (error) => this.logger.warn({ err: error }, 'job runner error'));
    return boss;
  }

  define<Data extends object>(definition: JobDefinition<Data>): void {
    if (this.definitions.has(definition.queue)) throw new Error(`job ${definition.queue} is defined twice`);
    this.definitions.set(definition.queue, definition);
  }

  /**
   * Adds a job in the current transaction when there is one (it exists only if the transaction commits), else on
   * its own. A job given the `id` (a UUID) of one the queue still keeps (until 7 days after it ended) is not added
   * again: work that may be asked for twice is done once.
   */
  async enqueue(
    queue: string,
    data: object,
    options: { id?: string; startAfter?: Date } = {},
  ): Promise<void> {
    if (!this.definitions.has(queue)) throw new Error(`no job ${queue} is defined`);
    if (!this.declared.has(queue)) await this.untilDeclared(queue);
    await this.boss.send(queue, data, { ...options, db: this.database.executor() });
  }

  /**
   * Queues are declared in the background once the app is up, so a request can come first: on a first boot, or in
   * the release that adds a queue. It waits for them (bounded), then is turned away as not ready.
   */
  private async untilDeclared(queue: string): Promise<void> {
    await Promise.race([this.settled(), delay(QUEUE_WAIT_MS, undefined, { ref: false })]);
    if (this.declared.has(queue)) return;
    throw new ProblemException(503, {
      type: PROBLEM_TYPES.notReady,
      detail: 'The job queues are still starting; retry later.',
      headers: retryAfter('notReady'),
    });
  }

  /** True once queues are declared and workers run, and while asleep; false while a start fails or is under way. */
  get ready(): boolean {
    return this.running || this.asleep;
  }

  /** Resolves once started or stopped as last asked (or given up because the app stops). */
  async settled(): Promise<void> {
    let current;
    do await (current = this.transition);
    while (current !== this.transition);
  }

  /**
   * pg-boss's own start (its schema, connections and maintenance: most of the runner's start-up) begins now, while
   * the app migrates its database and registers its routes; queues are declared once every feature has defined its
   * jobs (below), after it. A failure here is retried there.
   */
  onModuleInit(): void {
    this.next(() => this.boss.start().then(ignore, ignore));
  }

  /** Starts in the background, retrying while the database is unreachable (jobs wait in the database meanwhile). */
  onApplicationBootstrap(): void {
    this.wake();
  }

  wake(): void {
    this.asleep = false;
    this.next(async () => {
      const started = await retryWithBackoff(() => this.start(), {
        signal: this.stopping.signal,
        maxDelayMs: 30_000,
        onFailure: (error, attempt) => {
          this.running = false; // readiness fails until a start succeeds, after a wake as at boot
          this.logger.warn({ err: error, attempt }, 'job runner cannot start; retrying');
        },
      });
      if (started) this.running = true;
    });
  }

  /** Waits for the jobs under way (bounded), then stops and closes its connections. */
  sleep(): void {
    this.asleep = true;
    this.next(() => this.stop());
  }

  /**
   * Waits for the jobs under way (bounded), then stops, while the database pool is still open; what is still running
   * then is retried later, elsewhere.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    // Bounded as a whole: a start under way may itself wait for a stop that never ends (pg-boss's start does).
    await this.stop(this.settled());
  }

  private next(step: () => Promise<void>): void {
    this.transition = (this.transition ?? Promise.resolve())
      .then(() => (this.stopping.signal.aborted ? undefined : step()))
      .catch((error: unknown) => this.logger.error({ err: error }, 'job runner cannot start or stop'));
  }

  private async stop(after: Promise<void> = Promise.resolve()): Promise<void> {
    const stopping = after.then(() => this.boss.stop(STOP_OPTIONS)).then(yes, yes);
    const stopped = await Promise.race([stopping, delay(STOP_BOUND_MS, false, { ref: false })]);
    this.working.clear();
    if (stopped) return;
    this.logger.warn(`job runner not stopped within ${STOP_BOUND_MS} ms; the next start makes a new one`);
    this.abandoned = true;
    this.running = false; // until a start succeeds
  }

  private async start(): Promise<void> {
    // A start would wait for the stop given up on, which waits for connections a black hole keeps: for minutes. Until
    // this one starts, jobs are added through the old one (on the caller's connection); meanwhile they wait.
    if (this.abandoned) {
      [this.boss, this.abandoned] = [this.createBoss(), false];
      this.declared.clear(); // until this one knows them
    }
    await this.boss.start(); // at once when the start begun at module init succeeded
    // Jobs, like requests, wait for this version's schema (a deployment whose migrations did not run yet): run on the
    // old one, they would fail each attempt, and a failed job stays failed. Asked as often as requests ask.
    while ((await this.migrations.pending()).length > 0) {
      await delay(MIGRATIONS_RECHECK_MS, undefined, { signal: this.stopping.signal });
    }
    await Promise.all([...this.definitions.values()].map((definition) => this.startQueue(definition)));
  }

  private async startQueue(definition: JobDefinition): Promise<void> {
    await this.declareQueue(definition);
    this.declared.add(definition.queue);
    if (!this.working.has(definition.queue)) {
      await this.boss.work(
        definition.queue,
        {
          pollingIntervalSeconds: WORKER_POLL_SECONDS,
          // A job sent wakes the worker at once; retries and delayed jobs fall due without a notification, so the
          // worker still polls as often as it would without one.
          notifyPollingIntervalSeconds: WORKER_POLL_SECONDS,
          // Up to BATCH jobs a fetch, fetched again at once while batches come back full; each settled on its own.
          batchSize: BATCH,
          burstWhenBatchFull: true,
          perJobResults: true,
        },
        (jobs) => this.settle(definition, jobs),
      );
      this.working.add(definition.queue);
    }
    if (definition.cron) {
      await this.boss.schedule(definition.queue, definition.cron, {}, { tz: 'UTC', missed: 'once' });
    }
  }

  private async settle(
    definition: JobDefinition,
    jobs: { id: string; data: unknown }[],
  ): Promise<JobResult[]> {
    // Side by side: pg-boss times a fetched batch as a whole against the expiry, so each job gets all of it.
    return Promise.all(
      jobs.map(async (job): Promise<JobResult> => {
        try {
          await definition.handle(job.data as object);
          return { id: job.id, status: 'completed' };
        } catch (error) {
          const { name, message } =
            error instanceof Error ? error : { name: 'Error', message: String(error) };
          this.logger.warn({ err: error, queue: definition.queue, job: job.id }, 'job failed');
          return { id: job.id, status: 'failed', output: { name, message } };
        }
      }),
    );
  }

  /** Queue settings follow the code: created when missing (by whichever instance is first), updated otherwise. */
  private async declareQueue(definition: JobDefinition): Promise<void> {
    const settings = queueSettings(definition);
    if (!(await this.boss.getQueue(definition.queue))) {
      await this.boss.createQueue(definition.queue, settings).catch(() => undefined);
    }
    await this.boss.updateQueue(definition.queue, settings);
  }
}
