import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { PROBLEM_TYPES, ProblemException } from '../http/problem.js';
import { retryAfter } from '../http/retry-after.js';
import { DatabaseIdleness } from './database-idleness.js';
import { MigrationStatus } from './migration-status.js';

const WORKS_WITHOUT_DATABASE = 'runway:worksWithoutDatabase';

/**
 * Marks a controller or handler that answers even before the database connection is up (health checks). Its
 * requests do not wake background work either.
 */
export const WorksWithoutDatabase = () => SetMetadata(WORKS_WITHOUT_DATABASE, true);

/**
 * Until the first connection succeeds and the database holds every migration the code knows, requests get 503 +
 * Retry-After instead of a driver error. Every request of a handler that needs the database tells DatabaseIdleness.
 */
@Injectable()
export class DatabaseReadyGuard implements CanActivate {
  private readonly exempt = new WeakMap<object, boolean>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly reflector: Reflector,
    private readonly idleness: DatabaseIdleness,
    private readonly migrations: MigrationStatus,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.worksWithoutDatabase(context)) return true;
    this.idleness.used();
    if (!this.dataSource.isInitialized) throw databaseUnavailable();
    return this.migrations.upToDate || this.untilMigrated();
  }

  private async untilMigrated(): Promise<boolean> {
    const pending = await this.migrations.pending().catch(() => {
      throw databaseUnavailable();
    });
    if (pending.length === 0) return true;
    throw new ProblemException(503, {
      type: PROBLEM_TYPES.notReady,
      detail: 'The database has not been migrated for this version yet; retry later.',
      headers: retryAfter('notReady'),
    });
  }

  private worksWithoutDatabase(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let exempt = this.exempt.get(handler);
    if (exempt === undefined) {
      exempt = Boolean(
        this.reflector.getAllAndOverride<boolean>(WORKS_WITHOUT_DATABASE, [handler, context.getClass()]),
      );
      this.exempt.set(handler, exempt);
    }
    return exempt;
  }
}

function databaseUnavailable(): ProblemException {
  return new ProblemException(503, {
    type: PROBLEM_TYPES.databaseUnavailable,
    detail: 'The database is unavailable; retry later.',
    headers: retryAfter('databaseUnavailable'),
  });
}
