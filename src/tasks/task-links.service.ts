import { Injectable } from '@nestjs/common';
import { Database } from '../database/database.js';
import { ProblemException } from '../http/problem.js';
import { lineFeeds, withoutControls } from '../http/text.js';
import { TaskDecisions } from './task-decisions.js';
import type { Page } from '../http/html-page.js';
import { LINK_PAGES, confirmationPage, decisionPage } from './task-pages.js';
import { TaskLinksRepository } from './task-links.repository.js';
import { TaskSecrets, type LinkClaims } from './task-secrets.js';
import { TasksRepository, type TaskRow } from './tasks.repository.js';

/** Longer comments are cut to this many characters (a form cannot be told why it failed as an API client can). */
export const MAX_LINK_COMMENT = 2000;

/**
 * Emailed links, a capability each: signed, bound to one task and one recipient, expiring, usable once. GET shows the
 * task; only the form's POST decides. Every failure is a page with its status (404, 409, 410) that changes nothing.
 */
@Injectable()
export class TaskLinks {
  constructor(
    private readonly db: Database,
    private readonly secrets: TaskSecrets,
    private readonly links: TaskLinksRepository,
    private readonly tasks: TasksRepository,
    private readonly decisions: TaskDecisions,
  ) {}

  async show(token: string): Promise<Page> {
    const checked = await this.check(token);
    return 'page' in checked ? checked.page : decisionPage(checked.task, checked.claims.recipient);
  }

  async decide(token: string, form: unknown): Promise<Page> {
    const { outcome, comment } = (form ?? {}) as Record<string, unknown>;
    const checked = await this.check(token);
    if ('page' in checked) return checked.page;
    if (
      (outcome !== 'approved' && outcome !== 'rejected') ||
      (comment !== undefined && typeof comment !== 'string')
    ) {
      return LINK_PAGES.badChoice();
    }
    const { claims } = checked;
    try {
      const decided = await this.db.transaction(async () => {
        if (!(await this.links.use(claims.linkId))) return undefined;
        return this.decisions.decide(
          claims.taskId,
          {
            outcome,
            // Control characters, which the API refuses in a comment (and the database cannot store U+0000), are
            // dropped rather than an error: the person deciding could not correct them. A browser sends the box's
            // line breaks as CRLF, which its maxlength counted as one character.
            comment:
              [...withoutControls(lineFeeds(comment ?? '')).trim()].slice(0, MAX_LINK_COMMENT).join('') ||
              null,
          },
          { kind: 'email', id: claims.recipient, name: claims.recipient, via: 'email' },
        );
      });
      return decided ? confirmationPage(decided) : LINK_PAGES.used((await this.tasks.find(claims.taskId))!);
    } catch (error) {
      // Decided by someone else in the meantime (the API, another link), or expired: nothing was written.
      if (error instanceof ProblemException && error.getStatus() === 409) {
        const task = (await this.tasks.find(claims.taskId))!;
        if (task.status !== 'open') return LINK_PAGES.closed(task);
        if (await this.tasks.hasExpired(task.id)) return LINK_PAGES.taskExpired(task);
      }
      throw error;
    }
  }

  private async check(token: string): Promise<{ page: Page } | { claims: LinkClaims; task: TaskRow }> {
    const read = this.secrets.readLink(token);
    const link = read && (await this.links.find(read.linkId));
    const claims = link && { ...read, recipient: link.recipient };
    if (!claims || link.taskId !== claims.taskId || !this.secrets.isSigned(token, claims)) {
      return { page: LINK_PAGES.invalid() };
    }
    const task = await this.tasks.find(claims.taskId);
    if (!task) return { page: LINK_PAGES.invalid() };
    // Where the task stands first (a link expires with its task, or before): the page says what is left to do.
    if (link.usedAt) return { page: LINK_PAGES.used(task) };
    if (task.status !== 'open') return { page: LINK_PAGES.closed(task) };
    if (task.expiresAt && task.expiresAt.getTime() <= Date.now())
      return { page: LINK_PAGES.taskExpired(task) };
    if (claims.expiresAt.getTime() <= Date.now()) return { page: LINK_PAGES.expired() };
    return { claims, task };
  }
}
