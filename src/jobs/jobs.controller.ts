import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/access-policy.js';
import { ADMIN_ROLE } from '../auth/principal.js';
import { ApiProblems } from '../http/problem.dto.js';
import { NoQuery } from '../http/no-input.js';
import { JobsDto } from './jobs.dto.js';
import { JobsService } from './jobs.service.js';

@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(401, 403, 429, 503)
@Roles(ADMIN_ROLE)
@Controller('v1/admin/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get()
  @ApiOperation({ summary: 'Jobs by queue and state, and the latest failures with their error (admin only)' })
  @ApiOkResponse({ type: JobsDto })
  @ApiProblems(400)
  overview(@NoQuery() _query: void) {
    return this.jobs.overview();
  }
}
