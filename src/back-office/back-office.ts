import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppConfig } from '../config/config.js';

export const BACK_OFFICE_PATH = '/admin/';

/** dist/web: beside dist/src once compiled, under the checkout's dist/ when the source runs (the tests). */
const WEB_ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/src/') ? '../../web/' : '../../dist/web/', import.meta.url),
);

/**
 * What the page needs to sign in (authorization code + PKCE against managed login; nulls when not configured), and
 * the time zone whose days the analytics count, so that a default range ends on their today.
 */
export function backOfficeSettings(config: AppConfig) {
  const signIn = config.auth.webSignIn;
  return {
    analyticsTimeZone: config.analytics.timeZone,
    clientId: signIn?.clientId ?? null,
    authorizeUrl: signIn ? `${signIn.domain}/oauth2/authorize` : null,
    tokenUrl: signIn ? `${signIn.domain}/oauth2/token` : null,
    logoutUrl: signIn ? `${signIn.domain}/logout` : null,
    revokeUrl: signIn ? `${signIn.domain}/oauth2/revoke` : null,
    scope: 'openid email profile',
  };
}

/**
 * Scripts, styles, images and fonts from this origin only, nothing inline; the page talks to the API and to the
 * token endpoint, and is never framed.
 */
export function backOfficePolicy(config: AppConfig): string {
  const tokenOrigin = config.auth.webSignIn ? new URL(config.auth.webSignIn.domain).origin : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self' ${tokenOrigin}`.trim(),
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * The back office at /admin/: static files built from web/ (`npm run build`), outside Nest's pipeline since they are
 * the same for everyone. The page holds no secret and calls /v1/admin/* with the user's token, where the API checks
 * every permission. Asset names carry a hash of their content, so browsers may keep them for a year.
 */
export async function serveBackOffice(fastify: FastifyInstance, config: AppConfig): Promise<boolean> {
  const indexFile = join(WEB_ROOT, 'index.html');
  if (!existsSync(indexFile)) return false;
  const pageHeaders = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': backOfficePolicy(config),
    'cache-control': 'no-cache',
    'referrer-policy': 'no-referrer',
  };
  const settings = JSON.stringify(backOfficeSettings(config));

  fastify.get(BACK_OFFICE_PATH.slice(0, -1), (_request, reply) => reply.redirect(BACK_OFFICE_PATH, 301));
  // Read on each request (a small file, rarely asked for): `npm run dev` rebuilds it while the API runs.
  fastify.get(BACK_OFFICE_PATH, async (_request, reply) =>
    reply.headers(pageHeaders).send(await readFile(indexFile)),
  );
  fastify.get(`${BACK_OFFICE_PATH}config.json`, (_request, reply) =>
    reply.headers({ 'content-type': 'application/json', 'cache-control': 'no-cache' }).send(settings),
  );
  await fastify.register(fastifyStatic, {
    root: join(WEB_ROOT, 'assets'),
    prefix: `${BACK_OFFICE_PATH}assets/`,
    decorateReply: false,
    index: false,
    maxAge: '365d',
    immutable: true,
  });
  return true;
}
