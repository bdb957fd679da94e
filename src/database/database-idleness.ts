import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from '../config/config.js';

/** Background work that uses the database on its own: stopped while idle, started again on the next request. */
export interface Sleeper {
  sleep(): void;
  wake(): void;
}

/**
 * Lets a serverless database pause (Aurora's auto-pause needs no connection at all for minutes): once no request has
 * needed the database for DB_IDLE_SLEEP_SECONDS, the sleepers stop (the job runner, gauges read from the database)
 * and the pool's idle connections close; the next request that needs the database wakes them. Off (0) by default.
 */
@Injectable()
export class DatabaseIdleness implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly sleepers: Sleeper[] = [];
  private readonly idleMs: number;
  private usedSinceCheck = false;
  private quietSince = performance.now();
  private sleeping = false;
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @InjectPinoLogger(DatabaseIdleness.name) private readonly logger: PinoLogger,
  ) {
    this.idleMs = config.database.idleSleepSeconds * 1000;
  }

  get asleep(): boolean {
    return this.sleeping;
  }

  register(sleeper: Sleeper): void {
    this.sleepers.push(sleeper);
  }

  /** A request needs the database: wakes what sleeps. Called on every such request, so it only sets a flag. */
  used(): void {
    this.usedSinceCheck = true;
    if (this.sleeping) this.wake();
  }

  onApplicationBootstrap(): void {
    if (this.idleMs === 0) return;
    this.timer = setInterval(() => this.check(), Math.min(this.idleMs / 4, 15_000));
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const now = performance.now();
    if (this.usedSinceCheck) {
      this.usedSinceCheck = false;
      this.quietSince = now;
    } else if (!this.sleeping && now - this.quietSince >= this.idleMs) {
      this.sleeping = true;
      this.logger.info(
        { idleSeconds: this.idleMs / 1000 },
        'no request needed the database: background work sleeps',
      );
      for (const sleeper of this.sleepers) sleeper.sleep();
    }
  }

  private wake(): void {
    this.sleeping = false;
    this.quietSince = performance.now();
    this.logger.info('a request needs the database: background work wakes');
    for (const sleeper of this.sleepers) sleeper.wake();
  }
}
