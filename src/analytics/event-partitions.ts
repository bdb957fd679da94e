import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Database } from '../database/database.js';
import { JobRunner } from '../jobs/job-runner.js';
import { Clock } from '../utils/clock.js';
import { monthStarting, PartitionsRepository, type Month } from './partitions.repository.js';

export const PARTITIONS_QUEUE = 'analytics.partitions';
/** Months kept ready after the current one. */
const MONTHS_AHEAD = 3;

/**
 * Keeps `analytics_events` partitioned by month: the current month, the one before and the next few exist, and
 * months that ended more than ANALYTICS_RETENTION_DAYS ago are dropped (a month at a time, so an event is kept at
 * least that long). Runs every hour as a job, under a lock, so several instances never collide.
 */
@Injectable()
export class EventPartitions implements OnModuleInit {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: Database,
    private readonly partitions: PartitionsRepository,
    private readonly jobs: JobRunner,
    private readonly clock: Clock,
    @InjectPinoLogger(EventPartitions.name) private readonly logger: PinoLogger,
  ) {}

  onModuleInit(): void {
    this.jobs.define({ queue: PARTITIONS_QUEUE, cron: '7 * * * *', handle: () => this.maintain() });
  }

  async maintain(): Promise<void> {
    const now = this.clock.now();
    const cutoff = new Date(now.getTime() - this.config.analytics.retentionDays * 86_400_000);
    const wanted = Array.from({ length: MONTHS_AHEAD + 2 }, (_, index) =>
      monthStarting(now.getUTCFullYear(), now.getUTCMonth() - 1 + index),
    );
    await this.db.transaction(async () => {
      await this.partitions.lock();
      const existing = await this.partitions.months();
      const missing = wanted.filter((month) => !existing.some(({ name }) => name === month.name));
      const expired = existing.filter((month) => month.to <= cutoff);
      // Drops first: each takes the table's strongest lock, so it waits for the writes under way and keeps out the
      // next; once a month is created, writes wait for this transaction, and a drop after it would wait for them.
      for (const month of expired) await this.partitions.drop(month);
      for (const month of missing) await this.partitions.create(month);
      await this.partitions.deleteDefaultBefore(cutoff);
      if (missing.length + expired.length > 0) {
        this.logger.info(
          { created: names(missing), dropped: names(expired) },
          'analytics partitions changed',
        );
      }
    });
  }
}

const names = (months: Month[]) => months.map(({ name }) => name);
