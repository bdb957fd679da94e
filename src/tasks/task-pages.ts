import { escapeHtml, htmlPage, type Page } from '../http/html-page.js';
import type { TaskRow } from './tasks.repository.js';

/** `2026-12-01 14:05 UTC`: a time as emails and pages show it. */
export function utc(time: Date): string {
  return `${time.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

/** The task and its two buttons; only the POST they send decides (mail scanners fetch links with GET). */
export function decisionPage(task: TaskRow, recipient: string): Page {
  const payload = JSON.stringify(task.payload, null, 2);
  return htmlPage(
    200,
    task.title,
    `<h1>${escapeHtml(task.title)}</h1>
<p class="meta">${escapeHtml(task.type)} · due ${utc(task.dueAt)} · for ${escapeHtml(recipient)}</p>
${task.description ? `<p class="description">${escapeHtml(task.description)}</p>` : ''}
${payload === '{}' ? '' : `<pre>${escapeHtml(payload)}</pre>`}
<form method="post">
<label for="comment">Comment (optional)</label>
<textarea id="comment" name="comment" maxlength="2000"></textarea>
<div class="actions">
<button class="approve" type="submit" name="outcome" value="approved">Approve</button>
<button class="reject" type="submit" name="outcome" value="rejected">Reject</button>
</div></form>`,
  );
}

export function confirmationPage(task: TaskRow): Page {
  const outcome = task.status === 'approved' ? 'Approved' : 'Rejected';
  return htmlPage(
    200,
    outcome,
    `<h1>${outcome}</h1><p>“${escapeHtml(task.title)}” is ${escapeHtml(task.status)}. Thank you; you can close this page.</p>`,
  );
}

export const LINK_PAGES = {
  invalid: () =>
    htmlPage(404, 'Link not valid', '<h1>This link is not valid</h1><p>Check that it was copied whole.</p>'),
  expired: () =>
    htmlPage(
      410,
      'Link expired',
      '<h1>This link has expired</h1><p>The task is still open: decide it in the back office.</p>',
    ),
  taskExpired: (task: TaskRow) =>
    htmlPage(
      410,
      'Task expired',
      `<h1>This task has expired</h1><p>“${escapeHtml(task.title)}” expired at ${utc(task.expiresAt!)}; it can no longer be decided.</p>`,
    ),
  // Shows where the task stands: after a double click or a reload, the person sees that their decision was saved.
  used: (task: TaskRow) =>
    htmlPage(
      410,
      'Link already used',
      `<h1>This link was already used</h1><p>Each link decides once. ${standing(task)}.</p>`,
    ),
  /** Decided, cancelled or expired meanwhile: each said as it is. */
  closed: (task: TaskRow): Page =>
    task.status === 'expired'
      ? LINK_PAGES.taskExpired(task)
      : task.status === 'cancelled'
        ? htmlPage(
            409,
            'Cancelled',
            `<h1>This task was cancelled</h1><p>${standing(task)}; it can no longer be decided.</p>`,
          )
        : htmlPage(
            409,
            'Already decided',
            `<h1>This task was already decided</h1><p>${standing(task)}. Nothing was changed.</p>`,
          ),
  badChoice: () =>
    htmlPage(
      400,
      'Choose an answer',
      '<h1>Choose Approve or Reject</h1><p>Go back and press one of the buttons.</p>',
    ),
};

function standing(task: TaskRow): string {
  const by = task.decidedBy ? ` (by ${escapeHtml(task.decidedBy)})` : '';
  return `“${escapeHtml(task.title)}” is ${escapeHtml(task.status)}${by}`;
}
