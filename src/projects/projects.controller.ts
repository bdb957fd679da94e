import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiExtraModels,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { ExpectedVersion } from '../database/versioning.js';
import { CurrentUser, SignedIn } from '../auth/access-policy.js';
import type { AuthenticatedUser } from '../auth/principal.js';
import { Idempotent } from '../http/idempotency/idempotency.interceptor.js';
import { pageSchema } from '../http/pagination.js';
import { ApiIfMatch, IfMatch } from '../http/preconditions.js';
import { ApiProblems } from '../http/problem.dto.js';
import { ResourceHeaders } from '../http/resource-headers.js';
import { NoBody } from '../http/no-input.js';
import { PathId } from '../http/validation.js';
import { CreateProjectDto, ListProjectsQuery, ProjectDto, UpdateProjectDto } from './projects.dto.js';
import { ProjectsService } from './projects.service.js';

@ApiTags('projects')
@ApiBearerAuth()
@ApiExtraModels(ProjectDto)
@ApiProblems(401, 403, 429, 503)
@SignedIn()
@ResourceHeaders()
@Controller('v1/projects')
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Post()
  @Idempotent()
  @ApiOperation({ summary: 'Create a project' })
  @ApiCreatedResponse({ type: ProjectDto, description: 'Created; ETag and Location headers set' })
  @ApiProblems(400, 409, 413, 415, 422)
  create(@CurrentUser() caller: AuthenticatedUser, @Body() input: CreateProjectDto) {
    return this.projects.create(caller, input);
  }

  @Get()
  @ApiOperation({ summary: 'Your projects, newest first' })
  @ApiOkResponse({ schema: pageSchema(ProjectDto) })
  @ApiProblems(400)
  list(@CurrentUser() caller: AuthenticatedUser, @Query() query: ListProjectsQuery) {
    return this.projects.list(caller.userId, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of your projects' })
  @ApiOkResponse({ type: ProjectDto, description: 'ETag header set' })
  @ApiProblems(400, 404)
  get(@CurrentUser() caller: AuthenticatedUser, @PathId() id: string) {
    return this.projects.get(caller.userId, id);
  }

  @Patch(':id')
  @ApiIfMatch('project')
  @ApiOperation({ summary: 'Change a project (name, description, status)' })
  @ApiOkResponse({ type: ProjectDto })
  @ApiProblems(400, 404, 409, 412, 413, 415)
  update(
    @CurrentUser() caller: AuthenticatedUser,
    @PathId() id: string,
    @Body() changes: UpdateProjectDto,
    @IfMatch() expected: ExpectedVersion,
  ) {
    return this.projects.update(caller.userId, id, changes, expected);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiIfMatch('project')
  @ApiOperation({ summary: 'Delete a project' })
  @ApiNoContentResponse()
  @ApiProblems(400, 404, 412)
  remove(
    @CurrentUser() caller: AuthenticatedUser,
    @PathId() id: string,
    @IfMatch() expected: ExpectedVersion,
    @NoBody() _body: void,
  ) {
    return this.projects.remove(caller, id, expected);
  }
}
