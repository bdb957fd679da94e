import { Controller, Get, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, SignedIn } from '../auth/access-policy.js';
import type { AuthenticatedUser } from '../auth/principal.js';
import { ApiProblems } from '../http/problem.dto.js';
import { PathId } from '../http/validation.js';
import { ProjectReviewDto } from './project-reviews.dto.js';
import { ProjectReviews } from './project-reviews.service.js';

@ApiTags('projects')
@ApiBearerAuth()
@ApiProblems(400, 401, 403, 404, 503)
@SignedIn()
@Controller('v1/projects/:id')
export class ProjectReviewsController {
  constructor(private readonly reviews: ProjectReviews) {}

  @Post('review-requests')
  @ApiOperation({ summary: 'Ask a person to review your project (a project.review task)' })
  @ApiCreatedResponse({ type: ProjectReviewDto })
  @ApiProblems(409)
  request(@CurrentUser() caller: AuthenticatedUser, @PathId() id: string) {
    return this.reviews.request(caller.userId, id);
  }

  @Get('review')
  @ApiOperation({ summary: "Where your project's review stands" })
  @ApiOkResponse({ type: ProjectReviewDto })
  get(@CurrentUser() caller: AuthenticatedUser, @PathId() id: string) {
    return this.reviews.get(caller.userId, id);
  }
}
