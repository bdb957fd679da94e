/**
 * The dev issuer's HTML: the sign-in page (one button per dev user, no password, no script) and its error page.
 */
import { createHash } from 'node:crypto';
import type { DevUser } from './dev-issuer.js';

/** A checked `GET /oauth2/authorize`: what the page posts back in hidden fields. */
export interface AuthorizeRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  scope: string;
  codeChallenge: string;
}

/** What the username field accepts (lower-cased first, as Cognito treats usernames case-insensitively). */
export const OTHER_USERNAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

const STYLE = [
  'body{font:16px/1.5 system-ui,sans-serif;color:#1f2328;max-width:26rem;margin:4rem auto;padding:0 1rem}',
  'h1{font-size:1.5rem;margin:0 0 .5rem}p{margin:0 0 1.5rem;color:#59636e}',
  'ul{list-style:none;padding:0;margin:0 0 1.5rem}li{margin:0 0 .75rem}',
  'button{font:inherit;padding:.4rem .9rem;border:1px solid #1f6feb;border-radius:6px;background:#1f6feb;color:#fff}',
  'input{font:inherit;padding:.35rem .5rem;border:1px solid #d1d9e0;border-radius:6px}',
  'label{display:block;margin:0 0 .25rem}.who{margin-left:.5rem;color:#59636e;font-size:.875rem}',
].join('');
const STYLE_SOURCE = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/**
 * Headers of every page. Chromium checks `form-action` against the redirect that follows a form's POST too, so the
 * sign-in page also allows the origin it sends the browser back to.
 */
export function pageHeaders(redirectOrigin?: string): Record<string, string> {
  const formAction = redirectOrigin ? `'self' ${redirectOrigin}` : `'self'`;
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': `default-src 'none'; style-src ${STYLE_SOURCE}; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

export function signInPage(request: AuthorizeRequest, users: readonly DevUser[]): string {
  const hidden = Object.entries({
    response_type: 'code',
    client_id: request.clientId,
    redirect_uri: request.redirectUri,
    state: request.state,
    scope: request.scope,
    code_challenge: request.codeChallenge,
    code_challenge_method: 'S256',
  })
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`)
    .join('');
  const choices = users
    .map(
      ({ username, email, groups }) =>
        `<li><button type="submit" name="username" value="${escapeHtml(username)}">Sign in as ${escapeHtml(username)}</button>` +
        `<span class="who">${escapeHtml(email)}${groups.length ? ` · ${escapeHtml(groups.join(', '))}` : ''}</span></li>`,
    )
    .join('');
  // Two forms: Enter in the text field submits its own form, not the first user's button.
  return document(
    'Sign in',
    `<h1>Sign in</h1>` +
      `<p>Development issuer, no password: choose who you are. You go back to ${escapeHtml(new URL(request.redirectUri).origin)}.</p>` +
      `<form method="post" action="/oauth2/authorize">${hidden}<ul>${choices}</ul></form>` +
      `<form method="post" action="/oauth2/authorize">${hidden}` +
      `<label for="username">Another username (in no group)</label>` +
      `<input id="username" name="username" required autocomplete="off" pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}"> ` +
      `<button type="submit">Sign in</button></form>`,
  );
}

export function errorPage(message: string): string {
  return document(
    'Sign-in error',
    `<h1>Sign-in error</h1><p>${escapeHtml(message)}</p><p>Nothing was sent back to the application.</p>`,
  );
}

function document(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${title} · Runway dev issuer</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`
  );
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
