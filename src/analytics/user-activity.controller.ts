import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, Roles } from '../auth/access-policy.js';
import { ADMIN_ROLE, type AuthenticatedUser } from '../auth/principal.js';
import { ApiProblems } from '../http/problem.dto.js';
import { PathId } from '../http/validation.js';
import { ActivityQuery, DEFAULT_ACTIVITY_DAYS, UserActivityDto } from './user-activity.dto.js';
import { UserActivityService } from './user-activity.service.js';

/** Under /v1/admin/users with the users feature's routes; here because this feature owns events and active days. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiProblems(400, 401, 403, 429, 503)
@Roles(ADMIN_ROLE)
@Controller('v1/admin/users')
export class UserActivityController {
  constructor(private readonly userActivity: UserActivityService) {}

  @Get(':id/activity')
  @ApiOperation({
    summary: `A user's active days and latest events in the range, by default the last ${DEFAULT_ACTIVITY_DAYS} days (admin only)`,
  })
  @ApiOkResponse({ type: UserActivityDto })
  @ApiProblems(404)
  activity(@CurrentUser() caller: AuthenticatedUser, @PathId() id: string, @Query() query: ActivityQuery) {
    return this.userActivity.activity(id, query, caller);
  }
}
