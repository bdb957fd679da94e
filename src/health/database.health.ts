import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { ping } from '../database/database.repository.js';
import { MigrationStatus } from '../database/migration-status.js';

const PING_TIMEOUT_MS = 1_000;

@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly dataSource: DataSource,
    private readonly migrationStatus: MigrationStatus,
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
    if (this.migrationStatus.upToDate) return indicator.up();
    if (!this.dataSource.isInitialized) return indicator.down({ message: 'not connected' });
    try {
      const pending = await this.migrationStatus.pending();
      // A count only: readiness is public, and the names would tell the schema's history.
      return pending.length === 0 ? indicator.up() : indicator.down({ pending: pending.length });
    } catch {
      return indicator.down({ message: 'cannot read the migrations table' });
    }
  }
}
