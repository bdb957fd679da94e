import { createHash } from 'node:crypto';
import type { TaskRow } from './tasks.repository.js';

/** An HTML answer to an emailed link. */
export interface Page {
  status: number;
  html: string;
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;
line-height:1.5}h1{font-size:1.4rem}pre{background:#f3f3f3;padding:.75rem;overflow:auto;white-space:pre-wrap}
textarea{width:100%;min-height:5rem;font:inherit}.actions{display:flex;gap:1rem;margin-top:1rem}
button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:.3rem;color:#fff;cursor:pointer}
.approve{background:#17623a}.reject{background:#a3231c}.meta{color:#555}.description{white-space:pre-wrap}`;

/**
 * No script at all, the one inline style allowed by its hash, forms posting only to this origin, never framed.
 * Sent with every page, together with no-store caching and no referrer (the URL is a capability).
 */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': [
    "default-src 'none'",
    `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; '),
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
};

/** `2026-12-01 14:05 UTC`: a time as emails and pages show it. */
export function utc(time: Date): string {
  return `${time.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!,
  );
}

function layout(status: number, title: string, body: string): Page {
  return {
    status,
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Runway</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`,
  };
}

/** The task and its two buttons; only the POST they send decides (mail scanners fetch links with GET). */
export function decisionPage(task: TaskRow, recipient: string): Page {
  const payload = JSON.stringify(task.payload, null, 2);
  return layout(
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
  return layout(
    200,
    outcome,
    `<h1>${outcome}</h1><p>“${escapeHtml(task.title)}” is ${escapeHtml(task.status)}. Thank you; you can close this page.</p>`,
  );
}

export const LINK_PAGES = {
  invalid: () =>
    layout(404, 'Link not valid', '<h1>This link is not valid</h1><p>Check that it was copied whole.</p>'),
  expired: () =>
    layout(
      410,
      'Link expired',
      '<h1>This link has expired</h1><p>The task is still open: decide it in the back office.</p>',
    ),
  taskExpired: (task: TaskRow) =>
    layout(
      410,
      'Task expired',
      `<h1>This task has expired</h1><p>“${escapeHtml(task.title)}” expired at ${utc(task.expiresAt!)}; it can no longer be decided.</p>`,
    ),
  // Shows where the task stands: after a double click or a reload, the person sees that their decision was saved.
  used: (task: TaskRow) =>
    layout(
      410,
      'Link already used',
      `<h1>This link was already used</h1><p>Each link decides once. ${standing(task)}.</p>`,
    ),
  /** Decided, cancelled or expired meanwhile: each said as it is. */
  closed: (task: TaskRow): Page =>
    task.status === 'expired'
      ? LINK_PAGES.taskExpired(task)
      : task.status === 'cancelled'
        ? layout(
            409,
            'Cancelled',
            `<h1>This task was cancelled</h1><p>${standing(task)}; it can no longer be decided.</p>`,
          )
        : layout(
            409,
            'Already decided',
            `<h1>This task was already decided</h1><p>${standing(task)}. Nothing was changed.</p>`,
          ),
  badChoice: () =>
    layout(
      400,
      'Choose an answer',
      '<h1>Choose Approve or Reject</h1><p>Go back and press one of the buttons.</p>',
    ),
};

function standing(task: TaskRow): string {
  const by = task.decidedBy ? ` (by ${escapeHtml(task.decidedBy)})` : '';
  return `“${escapeHtml(task.title)}” is ${escapeHtml(task.status)}${by}`;
}
