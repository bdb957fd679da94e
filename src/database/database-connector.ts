import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DataSource } from 'typeorm';
import { APP_CONFIG, ConfigError, type AppConfig, type ConfigIssue } from '../config/config.js';
import { retryWithBackoff } from '../utils/retry.js';
import { shutdownSignal, stopOnFault } from '../utils/shutdown.js';
import { createMigrationDataSource } from './data-source.js';
import { runMigrations } from './migrator.js';
import { knowsTimeZone } from './database.repository.js';

const MAX_RETRY_DELAY_MS = 5_000;

/**
 * Opens the database connection at boot. With MIGRATE_ON_START the app migrates first and refuses to start if it
 * cannot; otherwise it starts at once and keeps connecting in the background (readiness stays 503 until it does).
 * Either way, once connected, a setting PostgreSQL refuses (ANALYTICS_TIMEZONE) stops the process with exit 1.
 */
@Injectable()
export class DatabaseConnector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly stopping = new AbortController();

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(DatabaseConnector.name) private readonly logger: PinoLogger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.config.database.migrateOnStart) {
      void this.connectWithRetry();
      return;
    }
    const migrations = await createMigrationDataSource(this.config.database).initialize();
    try {
      const applied = await runMigrations(migrations, shutdownSignal);
      this.logger.info({ applied }, 'migrations: %d applied', applied.length);
    } finally {
      await migrations.destroy();
    }
    await this.dataSource.initialize();
    const refused = await this.refusedSetting();
    if (refused) throw new ConfigError([refused]);
  }

  onApplicationShutdown(): void {
    this.stopping.abort();
  }

  private async connectWithRetry(): Promise<void> {
    const connected = await retryWithBackoff(() => this.dataSource.initialize(), {
      signal: this.stopping.signal,
      maxDelayMs: MAX_RETRY_DELAY_MS,
      onFailure: (error, attempt) =>
        this.logger.warn({ err: error, attempt }, 'database unreachable; retrying'),
    });
    if (!connected) return;
    this.logger.info('database connected');
    const refused = await this.refusedSetting().catch(() => undefined);
    if (refused) {
      this.logger.fatal(new ConfigError([refused]).message);
      stopOnFault('invalid configuration');
    }
  }

  /** Node accepted ANALYTICS_TIMEZONE at start; PostgreSQL, whose zone names can differ, has its own say. */
  private async refusedSetting(): Promise<ConfigIssue | undefined> {
    const zone = this.config.analytics.timeZone;
    if (await knowsTimeZone(this.dataSource, zone)) return undefined;
    return {
      variable: 'ANALYTICS_TIMEZONE',
      problem: `PostgreSQL does not know the time zone ${zone} (see pg_timezone_names)`,
    };
  }
}
