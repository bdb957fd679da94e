import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiParam, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/access-policy.js';
import { ApiProblems } from '../http/problem.dto.js';
import { RouteSettings } from '../http/route-settings.js';
import { PAGE_HEADERS, type Page } from './task-pages.js';
import { TaskLinks } from './task-links.service.js';

/**
 * `/t/<link-token>`: the HTML pages of emailed links (see TaskLinks). The path is the secret: logs and traces show
 * `/t/:token`.
 */
@ApiTags('task links')
@ApiProduces('text/html')
@ApiParam({ name: 'token', description: 'The link token from the email', schema: { type: 'string' } })
@ApiResponse({ status: 404, description: 'An HTML page: the link is not valid' })
@ApiResponse({ status: 409, description: 'An HTML page: the task was already decided' })
@ApiResponse({ status: 410, description: 'An HTML page: the link expired or was used' })
@ApiProblems(429)
@Public()
@Controller('t')
export class TaskLinksController {
  constructor(private readonly links: TaskLinks) {}

  @Get(':token')
  @RouteSettings({ secretPath: true })
  @ApiOperation({ summary: 'The task and its Approve and Reject buttons (never decides)' })
  @ApiResponse({ status: 200, description: 'An HTML page' })
  async show(@Param('token') token: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return answer(reply, await this.links.show(token));
  }

  @Post(':token')
  // The form's comment is at most 2,000 characters, up to 9 bytes each once percent-encoded (CJK, say).
  @RouteSettings({ secretPath: true, acceptsForms: true, bodyLimit: 32 * 1024 })
  @ApiOperation({ summary: 'Decide the task: form fields outcome (approved | rejected) and comment' })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiResponse({ status: 200, description: 'An HTML confirmation page' })
  @ApiResponse({ status: 400, description: 'An HTML page: no outcome was chosen' })
  @ApiProblems(413, 415)
  async decide(
    @Param('token') token: string,
    @Body() form: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return answer(reply, await this.links.decide(token, form));
  }
}

function answer(reply: FastifyReply, page: Page): string {
  void reply.code(page.status).headers(PAGE_HEADERS);
  return page.html;
}
