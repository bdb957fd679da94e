import { Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, SignedIn } from '../auth/access-policy.js';
import type { AuthenticatedUser } from '../auth/principal.js';
import { Idempotent } from '../http/idempotency/idempotency.interceptor.js';
import { ApiProblems } from '../http/problem.dto.js';
import { ResourceHeaders } from '../http/resource-headers.js';
import { RouteSettings } from '../http/route-settings.js';
import { NoBody } from '../http/no-input.js';
import { PathId } from '../http/validation.js';
import { ProjectReviewDto } from './project-reviews.dto.js';
import { ProjectReviews } from './project-reviews.service.js';

@ApiTags('projects')
@ApiBearerAuth()
@ApiProblems(400, 401, 403, 404, 429, 503)
@SignedIn()
@ResourceHeaders()
@Controller('v1/projects/:id')
export class ProjectReviewsController {
  constructor(private readonly reviews: ProjectReviews) {}

  @Post('review-requests')
  @RouteSettings({ createdAt: 'review' })
  @Idempotent()
  @ApiOperation({ summary: 'Ask a person to review your project (a project.review task)' })
  @ApiCreatedResponse({
    type: ProjectReviewDto,
    headers: { Location: { $ref: '#/components/headers/Location' } },
  })
  @ApiProblems(409, 422)
  request(@CurrentUser() caller: AuthenticatedUser, @PathId() id: string, @NoBody() _body: void) {
    return this.reviews.request(caller.userId, id);
  }

  @Get('review')
  @ApiOperation({ summary: "Where your project's review stands" })
  @ApiOkResponse({ type: ProjectReviewDto })
  get(@CurrentUser() caller: AuthenticatedUser, @PathId() id: string) {
    return this.reviews.get(caller.userId, id);
  }
}
