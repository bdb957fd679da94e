import { Body, Controller, Get, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/access-policy.js';
import { PAGE_HEADERS, type Page } from '../http/html-page.js';
import { ApiProblems } from '../http/problem.dto.js';
import { RouteSettings } from '../http/route-settings.js';
import { MAX_LINK_COMMENT, TaskLinks } from './task-links.service.js';

/**
 * `/t/<link-token>`: the HTML pages of emailed links (see TaskLinks). The path is the secret: logs and traces show
 * `/t/:token`.
 */
@ApiTags('task links')
@ApiParam({ name: 'token', description: 'The link token from the email', schema: { type: 'string' } })
@ApiHtmlPage(404, 'the link is not valid')
@ApiHtmlPage(409, 'the task was already decided or cancelled')
@ApiHtmlPage(410, 'the link expired or was used')
@ApiProblems(429, 503)
@Public()
@Controller('t')
export class TaskLinksController {
  constructor(private readonly links: TaskLinks) {}

  @Get(':token')
  @RouteSettings({ secretPath: true, htmlProblems: true })
  @ApiOperation({ summary: 'The task and its Approve and Reject buttons (never decides)' })
  @ApiHtmlPage(200, 'the task, with a form to decide it')
  async show(@Param('token') token: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return answer(reply, await this.links.show(token));
  }

  @Post(':token')
  // The form's comment is at most 2,000 characters, up to 9 bytes each once percent-encoded (CJK, say).
  @RouteSettings({ secretPath: true, htmlProblems: true, formBody: true, bodyLimit: 32 * 1024 })
  @ApiOperation({ summary: 'Decide the task: form fields outcome (approved | rejected) and comment' })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['outcome'],
      properties: {
        outcome: { type: 'string', enum: ['approved', 'rejected'] },
        comment: { type: 'string', description: `Cut to ${MAX_LINK_COMMENT} characters` },
      },
    },
  })
  @ApiHtmlPage(200, 'the decision, confirmed')
  @ApiHtmlPage(400, 'no outcome was chosen')
  @ApiProblems(413, 415)
  async decide(
    @Param('token') token: string,
    @Body() form: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return answer(reply, await this.links.decide(token, form));
  }
}

/** A response that is an HTML page for a person, not JSON. */
function ApiHtmlPage(status: number, what: string) {
  return ApiResponse({
    status,
    description: `An HTML page: ${what}`,
    content: { 'text/html': { schema: { type: 'string' } } },
  });
}

function answer(reply: FastifyReply, page: Page): string {
  void reply.code(page.status).headers(PAGE_HEADERS);
  return page.html;
}
