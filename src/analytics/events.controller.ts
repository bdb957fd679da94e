import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, SignedIn } from '../auth/access-policy.js';
import type { AuthenticatedUser } from '../auth/principal.js';
import { RateLimit } from '../auth/rate-limit.guard.js';
import { BodyLimit } from '../http/route-settings.js';
import { ApiProblems } from '../http/problem.dto.js';
import { Clock } from '../utils/clock.js';
import { AnalyticsService } from './analytics.service.js';
import { EventBatchDto, EventsAcceptedDto, MAX_BATCH_BYTES, parseEventBatch } from './event-batch.js';

@ApiTags('analytics')
@ApiBearerAuth()
@ApiProblems(401, 403, 429, 503)
@SignedIn()
@Controller('v1/events')
export class EventsController {
  constructor(
    private readonly analytics: AnalyticsService,
    private readonly clock: Clock,
  ) {}

  @Post()
  @HttpCode(202)
  @RateLimit('ingest')
  @BodyLimit(MAX_BATCH_BYTES)
  @ApiOperation({
    summary: 'Record what you did: 1 to 500 events, all stored or none; resending an event id is safe',
  })
  @ApiBody({ type: EventBatchDto })
  @ApiAcceptedResponse({ type: EventsAcceptedDto })
  @ApiProblems(400, 413, 415, 422)
  record(@CurrentUser() caller: AuthenticatedUser, @Body() body: unknown) {
    return this.analytics.record(caller, parseEventBatch(body, this.clock.now()));
  }
}
