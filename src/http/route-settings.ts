import { RouteConfig } from '@nestjs/platform-fastify';
import { FASTIFY_ROUTE_CONFIG_METADATA } from '@nestjs/platform-fastify/constants.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { pathOf, unsupportedCoding } from './request.js';

/** What a route may change of the HTTP layer's defaults (one `@RouteSettings` per route). */
export interface RouteOptions {
  /** This route's own limit on the request body (413 above it), instead of HTTP_BODY_LIMIT_BYTES. */
  bodyLimit?: number;
  /** The path itself is a secret (a capability URL): logs, spans and problems name the route pattern instead. */
  secretPath?: boolean;
  /**
   * The body is an HTML form (`application/x-www-form-urlencoded`), and only that: JSON is 415 here, as a form is on
   * every other route.
   */
  formBody?: boolean;
  /** Pages for people: a problem is an HTML page too when the client accepts `text/html` (a browser). */
  htmlProblems?: boolean;
  /** ETag and Location from the body (set by `@ResourceHeaders()` on a controller; see `applyResourceHeaders`). */
  resourceHeaders?: boolean;
  /**
   * Where what this POST creates is read, relative to the request's path (`review` for a POST to
   * `/v1/projects/:id/review-requests`); by default `<path>/<id of the body>`.
   */
  createdAt?: string;
}

export const RouteSettings = (options: RouteOptions) => RouteConfig(options);

/** Adds to a handler's settings: for class decorators, which run after the methods' own `@RouteSettings`. */
export function addRouteSettings(handler: object, options: RouteOptions): void {
  const current = Reflect.getMetadata(FASTIFY_ROUTE_CONFIG_METADATA, handler) as RouteOptions | undefined;
  Reflect.defineMetadata(FASTIFY_ROUTE_CONFIG_METADATA, { ...current, ...options }, handler);
}
export const BodyLimit = (bytes: number) => RouteSettings({ bodyLimit: bytes });

/**
 * The settings of the route that matched; where none did, those of the secret path the URL is under (a link that a
 * mail client mangled still gets that route's pages).
 */
export function settingsOf(request: FastifyRequest): RouteOptions {
  if (request.routeOptions.url === undefined) return secretPathOf(request.url)?.settings ?? {};
  return (request.routeOptions.config as RouteOptions | undefined) ?? {};
}

/** The secret paths (`/t/:token`) by their static start (`/t/`): for requests no route matched. */
const secretPaths: { start: string; pattern: string; settings: RouteOptions }[] = [];

/** Makes {@link RouteSettings} take effect; call before the routes are registered. */
export function applyRouteSettings(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const settings = (route.config as RouteOptions | undefined) ?? {};
    if (settings.bodyLimit !== undefined) route.bodyLimit = settings.bodyLimit;
    const colon = route.url.indexOf(':');
    const start = colon === -1 ? route.url : route.url.slice(0, colon);
    if (settings.secretPath && !secretPaths.some((path) => path.pattern === route.url)) {
      secretPaths.push({ start, pattern: route.url, settings });
    }
  });
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (request, body: string, done) => {
      const coded = unsupportedCoding(request.raw);
      if (coded) return done(coded);
      if (!settingsOf(request).formBody) return done(unsupportedMediaType(request));
      done(null, formFields(body));
    },
  );
}

/** A 415 for a body of a type the route does not take. */
export function unsupportedMediaType(request: FastifyRequest): Error {
  return Object.assign(new Error(`Unsupported Media Type: ${request.headers['content-type']}`), {
    statusCode: 415,
  });
}

/**
 * A request URL's path as logs, traces and problem bodies may show it: without the query string, and as the route
 * pattern under a secret path, whether a route matched or not (a trailing slash, another method, a link a mail client
 * mangled into `//t/…`, `/T/…`, `/./t/…` or `/t\…`).
 */
export function loggablePath(url: string | undefined): string {
  return secretPathOf(url)?.pattern ?? pathOf(url);
}

function secretPathOf(url: string | undefined): (typeof secretPaths)[number] | undefined {
  // Decoded, as the router matches it: `/%74/…` reaches `/t/:token` too. Dot segments, which it does not resolve,
  // resolved: `/x/../t/…` is no route's, and still the link's.
  const seen = withoutDotSegments(decodedOrAsIs(pathOf(url)).replace(/[\\/]+/g, '/')).toLowerCase();
  return secretPaths.find(({ start }) => seen.startsWith(start.toLowerCase()));
}

function withoutDotSegments(path: string): string {
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '..') {
      if (kept.length > 1) kept.pop();
    } else if (segment !== '.') kept.push(segment);
  }
  return kept.join('/');
}

/** An error's message as a problem body may show it: the request's URL in it as {@link loggablePath} shows it. */
export function loggableMessage(message: string, url: string | undefined): string {
  if (!url) return message;
  const loggable = loggablePath(url);
  const path = pathOf(url);
  return message
    .replaceAll(url, loggable)
    .replaceAll(path, loggable)
    .replaceAll(decodedOrAsIs(path), loggable);
}

/** Each run of escapes that is UTF-8 decoded; the rest (`%`, `%ZZ`, a lone `%C3`) left as it is. */
function decodedOrAsIs(path: string): string {
  return path.replace(/(?:%[0-9a-f]{2})+/gi, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/** A form's fields; a field sent more than once keeps all its values (an array), so a check for one value refuses it. */
function formFields(body: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(body)) {
    const known = fields[name];
    fields[name] = known === undefined ? value : [...[known].flat(), value];
  }
  return fields;
}
