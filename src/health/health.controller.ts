import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Public } from '../auth/access-policy.js';
import { RateLimit } from '../auth/rate-limit.guard.js';
import { TokenVerifier } from '../auth/token-verifier.js';
import { WorksWithoutDatabase } from '../database/database-ready.guard.js';
import { ApiProblems } from '../http/problem.dto.js';
import { PROBLEM_TYPES, ProblemException } from '../http/problem.js';
import { retryAfter } from '../http/retry-after.js';
import { JobRunner } from '../jobs/job-runner.js';
import { DatabaseHealthIndicator } from './database.health.js';
import { DrainState } from './drain-state.js';

const HEALTH_EXAMPLE = { status: 'ok', info: {}, error: {}, details: {} };
/** Terminus's answer: each check's state by name, under `info` (up), `error` (down) and `details` (all). */
const HEALTH_SCHEMA = {
  type: 'object',
  required: ['status', 'info', 'error', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok'] },
    ...Object.fromEntries(
      ['info', 'error', 'details'].map((name) => [name, { type: 'object', additionalProperties: true }]),
    ),
  },
  example: HEALTH_EXAMPLE,
};

@ApiTags('health')
@Public()
@RateLimit(false)
@WorksWithoutDatabase()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: DatabaseHealthIndicator,
    private readonly drain: DrainState,
    private readonly tokens: TokenVerifier,
    private readonly indicators: HealthIndicatorService,
    private readonly jobs: JobRunner,
  ) {}

  @Get('live')
  @ApiOperation({
    summary: 'Liveness: the process answers. No dependencies (container and load balancer checks).',
  })
  @ApiOkResponse({ schema: HEALTH_SCHEMA })
  live() {
    // Not through Terminus, which answers 503 to every check once the app is shutting down: the process still answers.
    return { status: 'ok', info: {}, error: {}, details: {} };
  }

  @Get('ready')
  @ApiOperation({
    summary:
      'Readiness: database reachable, all migrations applied, token signing keys loaded, job runner started, not shutting down.',
  })
  @ApiOkResponse({ schema: HEALTH_SCHEMA })
  @ApiProblems(503)
  async ready() {
    if (this.drain.draining) throw notReady('The process is shutting down.', {});
    try {
      return await this.health.check([
        () => this.database.ping(),
        () => this.database.migrations(),
        () => this.started('signingKeys', this.tokens.ready, 'JWKS not loaded yet'),
        () => this.started('jobs', this.jobs.ready, 'job runner not started yet'),
      ]);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const { details } = error.getResponse() as { details: Record<string, unknown> };
      throw notReady('A dependency is not ready; see checks.', details);
    }
  }

  private started(name: string, ready: boolean, message: string) {
    const indicator = this.indicators.check(name);
    return ready ? indicator.up() : indicator.down({ message });
  }
}

function notReady(detail: string, checks: Record<string, unknown>): ProblemException {
  return new ProblemException(503, {
    type: PROBLEM_TYPES.notReady,
    detail,
    extensions: { checks },
    headers: retryAfter('notReady'),
  });
}
