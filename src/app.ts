import 'reflect-metadata';
import type { ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import { serveBackOffice } from './back-office/back-office.js';
import type { AppConfig } from './config/config.js';
import { DrainState } from './health/drain-state.js';
import { applyResourceHeaders } from './http/resource-headers.js';
import { applyRouteSettings } from './http/route-settings.js';
import { API_METHODS } from './http/route-handlers.js';
import { serveApiDocs } from './http/openapi.js';
import {
  answerClientError,
  answerFrameworkError,
  answerProblem,
  hostProblem,
  refuseUnsupported,
} from './http/low-level-errors.js';
import { REQUEST_ID_HEADER, requestIdFor } from './http/request.js';
import { setCommonHeaders } from './http/common-headers.js';
import { createValidationPipe } from './http/validation.js';
import { logRequests, type RequestLog } from './http/logging.js';
import { checkedJsonParser } from './http/json-body.js';
import { traceRequests } from './telemetry/server-spans.js';
import { telemetryStarted } from './telemetry/telemetry.js';

/** Headers a browser front end may read from our responses. */
const EXPOSED_HEADERS = [
  'ETag',
  'Location',
  'Retry-After',
  'X-Request-Id',
  'Idempotent-Replayed',
  'RateLimit',
  'RateLimit-Policy',
];

/** Builds the fully wired app (not yet listening): main.ts, the tests and the benchmark all start from here. */
export async function createApp(
  config: AppConfig,
  extraModules: NonNullable<ModuleMetadata['imports']> = [],
): Promise<NestFastifyApplication> {
  // Answers made before the app's onRequest hooks run (a URL Fastify cannot route, a CORS preflight) get the
  // headers every answer has and, once the request log exists, its line.
  let requestLog: RequestLog | undefined = undefined;
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    // Fastify turns Node's limit off by default: a request whose body stalls would hold its connection for ever.
    requestTimeout: config.http.requestTimeoutMs,
    http: {
      // How often Node looks for such requests (30 s by default), so a short limit is kept too.
      connectionsCheckingInterval: Math.min(30_000, Math.floor(config.http.requestTimeoutMs / 4)),
      // Node enforces the request limit only when the headers' limit is no longer; it derives that one (60 s at most)
      // from a request limit given to its constructor, but Fastify sets the request limit afterwards.
      headersTimeout: Math.min(60_000, config.http.requestTimeoutMs),
      // Checked by the security headers' hook instead, which answers problem+json (Node's answer has no body).
      requireHostHeader: false,
    },
    requestIdHeader: false,
    genReqId: requestIdFor,
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      setCommonHeaders(request, reply);
      requestLog?.watch(request, reply);
      answerFrameworkError(error, request, reply);
    },
    clientErrorHandler: answerClientError,
    // The client is the address the last N proxies saw (Fastify ignores a bare hop count: it trusts none then).
    trustProxy: trustHops(config.http.trustedProxyHops),
    // Requests that arrive while closing are served (and told to close their connection), not answered a bare 503.
    return503OnClosing: false,
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
  refuseUnsupported(fastify.server, (request, status, id) => requestLog?.answeredByNode(request, status, id));
  applyRouteSettings(fastify);
  applyResourceHeaders(fastify);
  // The store of the rate limits, which the guard applies per caller once it knows who is calling.
  await fastify.register(fastifyRateLimit, { global: false });
  // First, so that every later hook, the handler and the request log run inside the request's span.
  if (telemetryStarted()) traceRequests(fastify);
  // A JSON API: any other body type is answered 415 by Fastify (and turned into problem+json by the filter).
  fastify.removeContentTypeParser(['text/plain', 'application/json']);
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, checkedJsonParser(fastify));
  requestLog = logRequests(fastify, PinoLogger.root);
  fastify.addHook('onRequest', (request, reply, done) => {
    setCommonHeaders(request, reply);
    const badHost = hostProblem(request);
    if (badHost) return answerProblem(request, reply, 400, badHost);
    done();
  });
  const drain = app.get(DrainState);
  fastify.addHook('onSend', async (request, reply) => {
    // A CORS preflight is answered from @fastify/cors's own hook, which runs before the app's.
    if (!reply.hasHeader(REQUEST_ID_HEADER)) {
      setCommonHeaders(request, reply);
      requestLog?.watch(request, reply);
    }
    // While draining, close each keep-alive connection after its response so the server can stop.
    if (drain.draining) reply.header('connection', 'close');
  });
  if (config.http.corsOrigins.length > 0) {
    app.enableCors({
      origin: [...config.http.corsOrigins],
      // @fastify/cors allows GET, HEAD and POST only unless told otherwise.
      methods: [...API_METHODS],
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
      // Strict mode answers an OPTIONS that is not a preflight with a text/plain 400; an OPTIONS is not malformed.
      strictPreflight: false,
    });
  }
  app.useGlobalPipes(createValidationPipe());
  if (config.http.apiDocsEnabled) serveApiDocs(app);
  if (!(await serveBackOffice(fastify, config))) {
    PinoLogger.root.warn('the back office is not built (npm run build): /admin/ answers 404');
  }

  await app.init();
  await fastify.ready();
  return app;
}

/** Trusts the socket's peer and the proxies before it, `hops` in all, for the client's address: none when 0. */
function trustHops(hops: number): false | ((address: string, hop: number) => boolean) {
  return hops > 0 && ((_address, hop) => hop < hops);
}
