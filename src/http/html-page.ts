import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import type { ProblemDetails } from './problem.js';
import { settingsOf } from './route-settings.js';

/** An HTML answer for a person (an emailed link's page, or a problem on such a route). */
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
 * Sent with every page, together with no-store caching and no referrer (the URL may be a capability).
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

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!,
  );
}

/** A page of `body` (HTML, its text escaped by the caller) under an escaped `title`. */
export function htmlPage(status: number, title: string, body: string): Page {
  return {
    status,
    html: `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="robots" content="noindex">
<title>${escapeHtml(title)} · Runway</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`,
  };
}

/**
 * Sends a problem: an HTML page to a browser (a client accepting `text/html`) on a route for people (`htmlProblems`),
 * application/problem+json to everyone else.
 */
export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: ProblemDetails,
  headers: Record<string, string> = {},
): void {
  if (settingsOf(request).htmlProblems && /\btext\/html\b/.test(request.headers.accept ?? '')) {
    void reply
      .status(problem.status)
      .headers({ ...headers, ...PAGE_HEADERS })
      .send(problemPage(problem).html);
    return;
  }
  void reply.status(problem.status).headers(headers).type('application/problem+json').send(problem);
}

/** A problem as a person reads it in a browser. */
function problemPage(problem: ProblemDetails): Page {
  return htmlPage(
    problem.status,
    problem.title,
    `<h1>${escapeHtml(problem.title)}</h1><p>${escapeHtml(problem.detail ?? '')}</p>
<p class="meta">Request ${escapeHtml(String(problem.requestId))}</p>`,
  );
}
