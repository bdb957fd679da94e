import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { PROBLEM_TYPES, ProblemException } from '../http/problem.js';
import { retryAfter } from '../http/retry-after.js';

const WORKS_WITHOUT_DATABASE = 'runway:worksWithoutDatabase';

/** Marks a controller or handler that answers even before the database connection is up (health checks). */
export const WorksWithoutDatabase = () => SetMetadata(WORKS_WITHOUT_DATABASE, true);

/** Until the first connection succeeds, requests get 503 + Retry-After instead of a driver error. */
@Injectable()
export class DatabaseReadyGuard implements CanActivate {
  constructor(
    private readonly dataSource: DataSource,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (this.dataSource.isInitialized) return true;
    const exempt = this.reflector.getAllAndOverride<boolean>(WORKS_WITHOUT_DATABASE, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (exempt) return true;
    throw new ProblemException(503, {
      type: PROBLEM_TYPES.databaseUnavailable,
      detail: 'The database is unavailable; retry later.',
      headers: retryAfter('databaseUnavailable'),
    });
  }
}
