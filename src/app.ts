import 'reflect-metadata';
import type { ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import helmet from 'helmet';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/config.js';
import { DrainState } from './health/drain-state.js';
import { serveApiDocs } from './http/openapi.js';
import { REQUEST_ID_HEADER, requestIdFor } from './http/request.js';
import { createValidationPipe } from './http/validation.js';
import type { RequestWithRoute } from './http/logging.js';
import { traceRequests } from './telemetry/server-spans.js';
import { telemetryStarted } from './telemetry/telemetry.js';

/** Headers a browser front end may read from our responses. */
const EXPOSED_HEADERS = ['ETag', 'Location', 'Retry-After', 'X-Request-Id', 'Idempotent-Replayed'];

/** Builds the fully wired app (not yet listening): main.ts, the tests and the benchmark all start from here. */
export async function createApp(
  config: AppConfig,
  extraModules: NonNullable<ModuleMetadata['imports']> = [],
): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    requestIdHeader: false,
    genReqId: requestIdFor,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(config, extraModules),
    adapter,
    {
      bufferLogs: true,
      // Fastify's own JSON parser only: Nest would add a form-urlencoded parser this JSON API must not accept.
      bodyParser: false,
    },
  );
  app.useLogger(app.get(Logger));

  const fastify = app.getHttpAdapter().getInstance();
  // First, so that every later hook, the handler and the request log run inside the request's span.
  if (telemetryStarted()) traceRequests(fastify);
  // A JSON API: any other body type is answered 415 by Fastify (and turned into problem+json by the filter).
  fastify.removeContentTypeParser(['text/plain', 'application/json']);
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, depthLimitedJsonParser(fastify));
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    (request.raw as RequestWithRoute).routePattern = request.routeOptions.url;
  });
  const drain = app.get(DrainState);
  fastify.addHook('onSend', async (_request, reply) => {
    // While draining, close each keep-alive connection after its response so the server can stop.
    if (drain.draining) reply.header('connection', 'close');
  });
  // Security headers from helmet, built once (@fastify/helmet rebuilds them on every request: ~30 % of throughput).
  const securityHeaders = helmet();
  fastify.addHook('onRequest', (request, reply, done) =>
    securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)),
  );
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({ origin: [...config.http.corsOrigins], exposedHeaders: EXPOSED_HEADERS, maxAge: 600 });
  }
  app.useGlobalPipes(createValidationPipe());
  if (config.http.apiDocsEnabled) serveApiDocs(app);

  await app.init();
  await fastify.ready();
  return app;
}

/** Nesting deeper than this is refused (400): recursive code downstream (validation, hashing) must not overflow. */
const MAX_JSON_DEPTH = 32;

/**
 * Fastify's own JSON parser (prototype-poisoning checks included) plus a nesting limit. An empty body is no body:
 * many clients send `Content-Type: application/json` on every request, a DELETE included; a route that needs a body
 * still answers 400 (see the validation pipe).
 */
function depthLimitedJsonParser(fastify: FastifyInstance): FastifyBodyParser<string> {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    if (body.length === 0) return done(null, undefined);
    void parseJson(request, body, (error, value) => {
      if (error) return done(error);
      if (nestingDepth(value) > MAX_JSON_DEPTH) {
        return done(
          Object.assign(new Error(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), { statusCode: 400 }),
        );
      }
      done(null, value);
    });
  };
}

function nestingDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 1]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > MAX_JSON_DEPTH) return deepest;
    for (const child of Object.values(current)) pending.push([child, depth + 1]);
  }
  return deepest;
}
