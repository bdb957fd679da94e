import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/access-policy.js';
import { ADMIN_ROLE } from '../auth/principal.js';
import { pageSchema } from '../http/pagination.js';
import { ApiProblems } from '../http/problem.dto.js';
import { AuditEntryDto, ListAuditQuery } from './audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('admin')
@ApiBearerAuth()
@ApiExtraModels(AuditEntryDto)
@ApiProblems(400, 401, 403, 429, 503)
@Roles(ADMIN_ROLE)
@Controller('v1/admin/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({
    summary: 'Operator actions, newest first; filter by actor id, action or target id (admin only)',
  })
  @ApiOkResponse({ schema: pageSchema(AuditEntryDto) })
  list(@Query() query: ListAuditQuery) {
    return this.audit.list(query);
  }
}
