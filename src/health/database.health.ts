import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { ping } from '../database/database.repository.js';
import { pendingMigrations } from '../database/migrator.js';

const PING_TIMEOUT_MS = 1_000;

@Injectable()
export class DatabaseHealthIndicator {
  /** Once every known migration is applied it stays applied for the life of this process. */
  private migrationsApplied = false;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
  ) {}

  ping() {
    return this.indicators
      .check('database')
      .attempt(async () => {
        if (!this.dataSource.isInitialized) throw new Error('not connected');
        // The driver's message names hosts and users, and readiness is public: it says this much only.
        await ping(this.dataSource).catch(() => {
          throw new Error('unreachable');
        });
      })
      .withTimeout(PING_TIMEOUT_MS);
  }

  async migrations() {
    const indicator = this.indicators.check('migrations');
    if (this.migrationsApplied) return indicator.up();
    if (!this.dataSource.isInitialized) return indicator.down({ message: 'not connected' });
    try {
      const pending = await pendingMigrations(this.dataSource);
      this.migrationsApplied = pending.length === 0;
      return this.migrationsApplied ? indicator.up() : indicator.down({ pending });
    } catch {
      return indicator.down({ message: 'cannot read the migrations table' });
    }
  }
}
