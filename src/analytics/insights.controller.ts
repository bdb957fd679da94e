import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/access-policy.js';
import { ADMIN_ROLE } from '../auth/principal.js';
import { ApiProblems } from '../http/problem.dto.js';
import { NoQuery } from '../http/no-input.js';
import {
  ActiveUsersDto,
  EventDaysDto,
  EventsReportDto,
  FunnelDto,
  LifecycleDto,
  RetentionDto,
  SummaryDto,
} from './insights.dto.js';
import { EventNameParams, EventsQuery, FunnelQuery, PeriodQuery, RangeQuery } from './insights.query.js';
import { InsightsService } from './insights.service.js';

@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401, 403, 429, 503)
@Roles(ADMIN_ROLE)
@Controller('v1/admin/analytics')
export class InsightsController {
  constructor(private readonly insights: InsightsService) {}

  @Get('active-users')
  @ApiOperation({ summary: 'DAU, WAU, MAU and stickiness for each day of the range' })
  @ApiOkResponse({ type: ActiveUsersDto })
  @ApiProblems(400)
  activeUsers(@Query() query: RangeQuery) {
    return this.insights.activeUsers(query);
  }

  @Get('events')
  @ApiOperation({ summary: 'The events sent most in the range, against the period before' })
  @ApiOkResponse({ type: EventsReportDto })
  @ApiProblems(400)
  events(@Query() query: EventsQuery) {
    return this.insights.events(query);
  }

  @Get('events/:name')
  @ApiOperation({ summary: 'One event day by day: how often it was sent, and by how many users' })
  @ApiOkResponse({ type: EventDaysDto })
  @ApiProblems(400)
  eventDays(@Param() { name }: EventNameParams, @Query() query: RangeQuery) {
    return this.insights.eventDays(name, query);
  }

  @Get('funnel')
  @ApiOperation({ summary: 'Users reaching each step of a sequence of events, and where they drop off' })
  @ApiOkResponse({ type: FunnelDto })
  @ApiProblems(400)
  funnel(@Query() query: FunnelQuery) {
    return this.insights.funnel(query);
  }

  @Get('retention')
  @ApiOperation({ summary: 'Cohorts by first active period, and how many came back in each period after' })
  @ApiOkResponse({ type: RetentionDto })
  @ApiProblems(400)
  retention(@Query() query: PeriodQuery) {
    return this.insights.retention(query);
  }

  @Get('lifecycle')
  @ApiOperation({ summary: 'New, returning, resurrecting and dormant users in each period' })
  @ApiOkResponse({ type: LifecycleDto })
  @ApiProblems(400)
  lifecycle(@Query() query: PeriodQuery) {
    return this.insights.lifecycle(query);
  }

  @Get('summary')
  @ApiOperation({ summary: 'The last 7 complete days against the 7 before' })
  @ApiOkResponse({ type: SummaryDto })
  @ApiProblems(400)
  summary(@NoQuery() _query: void) {
    return this.insights.summary();
  }
}
