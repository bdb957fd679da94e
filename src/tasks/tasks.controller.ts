import { Body, Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentUser, Roles, RolesOrScopes } from '../auth/access-policy.js';
import { ADMIN_ROLE, type AuthenticatedUser, type Principal } from '../auth/principal.js';
import { SCOPES } from '../auth/scopes.js';
import type { ExpectedVersion } from '../database/versioning.js';
import { Idempotent, IDEMPOTENT_REPLAYED_HEADER } from '../http/idempotency/idempotency.interceptor.js';
import { pageSchema } from '../http/pagination.js';
import { ApiIfMatch, IfMatch } from '../http/preconditions.js';
import { ApiProblems } from '../http/problem.dto.js';
import { ResourceHeaders } from '../http/resource-headers.js';
import { NoBody } from '../http/no-input.js';
import { PathId } from '../http/validation.js';
import { CancelDto, CreateTaskDto, DecisionDto, ListTasksQuery, TaskDto } from './tasks.dto.js';
import { TasksService } from './tasks.service.js';

/** Machine clients (workflows, scripts) create, read and cancel tasks; admins may too. */
@ApiTags('tasks')
@ApiBearerAuth()
@ApiExtraModels(TaskDto)
@ApiProblems(400, 401, 403, 429, 503)
@ResourceHeaders()
@Controller('v1/tasks')
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @Idempotent()
  @RolesOrScopes({ roles: [ADMIN_ROLE], scopes: [SCOPES.tasksWrite] })
  @ApiOperation({ summary: `Create a task (scope ${SCOPES.tasksWrite}, or admin)` })
  @ApiCreatedResponse({
    type: TaskDto,
    description:
      'Created; ETag and Location headers set. A taskToken sent before answers the task it created, as it is now, ' +
      'with Idempotent-Replayed: true',
  })
  @ApiProblems(409, 413, 415, 422)
  async create(
    @CurrentUser() caller: Principal | AuthenticatedUser,
    @Body() input: CreateTaskDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const creator =
      caller.kind === 'machine'
        ? { kind: 'machine' as const, id: caller.clientId }
        : { kind: 'user' as const, id: (caller as AuthenticatedUser).userId };
    const { task, existing } = await this.tasks.create(input, creator);
    if (existing) void reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
    return task;
  }

  @Get(':id')
  @RolesOrScopes({ roles: [ADMIN_ROLE], scopes: [SCOPES.tasksRead] })
  @ApiOperation({ summary: `A task (scope ${SCOPES.tasksRead}, or admin)` })
  @ApiOkResponse({ type: TaskDto, description: 'ETag header set' })
  @ApiProblems(404)
  get(@PathId() id: string) {
    return this.tasks.get(id);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @RolesOrScopes({ roles: [ADMIN_ROLE], scopes: [SCOPES.tasksWrite] })
  @ApiIfMatch('task')
  @ApiOperation({ summary: 'Cancel a task you created (machine clients), or any task (admins)' })
  @ApiOkResponse({ type: TaskDto })
  @ApiProblems(404, 409, 412, 413, 415)
  cancel(
    @CurrentUser() caller: Principal,
    @PathId() id: string,
    @Body() input: CancelDto,
    @IfMatch() expected: ExpectedVersion,
  ) {
    return this.tasks.cancel(id, input.reason, caller, expected);
  }
}

/** The operators' inbox. */
@ApiTags('admin')
@ApiBearerAuth()
@ApiExtraModels(TaskDto)
@ApiProblems(400, 401, 403, 429, 503)
@Roles(ADMIN_ROLE)
@ResourceHeaders()
@Controller('v1/admin/tasks')
export class AdminTasksController {
  constructor(private readonly tasks: TasksService) {}

  @Get()
  @ApiOperation({ summary: 'Tasks by due date (overdue first), then oldest first; open ones by default' })
  @ApiOkResponse({ schema: pageSchema(TaskDto) })
  list(@Query() query: ListTasksQuery) {
    return this.tasks.list(query);
  }

  @Post(':id/claim')
  @HttpCode(200)
  @ApiIfMatch('task')
  @ApiOperation({
    summary: 'Assign an open task to yourself',
    description:
      "Without If-Match, a task someone else claimed is 409 (naming its `assignee`); with the task's ETag, you take it over. A task decided or past its `expiresAt` is 409.",
  })
  @ApiOkResponse({ type: TaskDto })
  @ApiProblems(404, 409, 412)
  claim(
    @CurrentUser() caller: AuthenticatedUser,
    @PathId() id: string,
    @IfMatch() expected: ExpectedVersion,
    @NoBody() _body: void,
  ) {
    return this.tasks.claim(id, caller, expected);
  }

  @Post(':id/decision')
  @HttpCode(200)
  @ApiIfMatch('task')
  @ApiOperation({
    summary: 'Approve or reject an open task; 409 (naming who decided) when it is no longer open',
  })
  @ApiOkResponse({ type: TaskDto })
  @ApiProblems(404, 409, 412, 413, 415)
  decide(
    @CurrentUser() caller: AuthenticatedUser,
    @PathId() id: string,
    @Body() input: DecisionDto,
    @IfMatch() expected: ExpectedVersion,
  ) {
    return this.tasks.decide(id, input, caller, expected);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiIfMatch('task')
  @ApiOperation({ summary: 'Cancel an open task' })
  @ApiOkResponse({ type: TaskDto })
  @ApiProblems(404, 409, 412, 413, 415)
  cancel(
    @CurrentUser() caller: AuthenticatedUser,
    @PathId() id: string,
    @Body() input: CancelDto,
    @IfMatch() expected: ExpectedVersion,
  ) {
    return this.tasks.cancel(id, input.reason, caller, expected);
  }
}
