import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pathOf } from './request.js';

/** What a route may change of the HTTP layer's defaults (one `@RouteSettings` per route). */
export interface RouteOptions {
  /** This route's own limit on the request body (413 above it), instead of HTTP_BODY_LIMIT_BYTES. */
  bodyLimit?: number;
  /** The path itself is a secret (a capability URL): logs, spans and problems name the route pattern instead. */
  secretPath?: boolean;
  /** Accepts `application/x-www-form-urlencoded` bodies (HTML forms); every other route answers them 415. */
  acceptsForms?: boolean;
}

export const RouteSettings = (options: RouteOptions) => RouteConfig(options);
export const BodyLimit = (bytes: number) => RouteSettings({ bodyLimit: bytes });

function settingsOf(request: FastifyRequest): RouteOptions {
  return (request.routeOptions.config as RouteOptions | undefined) ?? {};
}

/** Makes {@link RouteSettings} take effect; call before the routes are registered. */
export function applyRouteSettings(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const limit = (route.config as RouteOptions | undefined)?.bodyLimit;
    if (limit !== undefined) route.bodyLimit = limit;
  });
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, body: string, done) => {
      if (!settingsOf(request).acceptsForms) {
        return done(
          Object.assign(new Error(`Unsupported Media Type: ${request.headers['content-type']}`), {
            statusCode: 415,
          }),
        );
      }
      done(null, Object.fromEntries(new URLSearchParams(body)));
    },
  );
}

/** The request's path as logs, traces and problem bodies may show it. */
export function loggablePath(request: FastifyRequest): string {
  return settingsOf(request).secretPath && request.routeOptions.url
    ? request.routeOptions.url
    : pathOf(request.url);
}
