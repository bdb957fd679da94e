import { Body, Controller, Delete, Get, HttpCode, Patch, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, Roles, SignedIn } from '../auth/access-policy.js';
import { ADMIN_ROLE, type AuthenticatedUser } from '../auth/principal.js';
import { pageSchema } from '../http/pagination.js';
import { ApiProblems } from '../http/problem.dto.js';
import { NoBody } from '../http/no-input.js';
import { AdminUserDto, ListUsersQuery, MeDto, UpdateMeDto } from './users.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@ApiBearerAuth()
@ApiProblems(401, 403, 429, 503)
@SignedIn()
@Controller('v1/me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'The signed-in user (created on their first request)' })
  @ApiOkResponse({ type: MeDto })
  @ApiProblems(409)
  me(@CurrentUser() caller: AuthenticatedUser) {
    return this.users.me(caller);
  }

  @Patch()
  @ApiOperation({ summary: 'Change the display name; any other field is a 400' })
  @ApiOkResponse({ type: MeDto })
  @ApiProblems(400, 409, 413, 415)
  update(@CurrentUser() caller: AuthenticatedUser, @Body() changes: UpdateMeDto) {
    return this.users.updateMe(caller, changes);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({
    summary:
      'Delete the user and everything they own in Runway. The Cognito account is deleted through Cognito.',
  })
  @ApiNoContentResponse()
  remove(@CurrentUser() caller: AuthenticatedUser, @NoBody() _body: void) {
    return this.users.deleteMe(caller);
  }
}

@ApiTags('admin')
@ApiBearerAuth()
@ApiExtraModels(AdminUserDto)
@ApiProblems(400, 401, 403, 429, 503)
@Roles(ADMIN_ROLE)
@Controller('v1/admin/users')
export class AdminUsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'Users, newest first; prefix search on username or email (admin only)' })
  @ApiOkResponse({ schema: pageSchema(AdminUserDto) })
  list(@CurrentUser() caller: AuthenticatedUser, @Query() query: ListUsersQuery) {
    return this.users.list(query, caller);
  }
}
