import { context } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Params } from 'nestjs-pino';
import { destination, stdSerializers, stdTimeFunctions, type Logger } from 'pino';
import type { AppConfig } from '../config/config.js';
import { loggablePath } from './route-settings.js';
import { withoutValues } from '../database/postgres-errors.js';
import { traceLogFields } from '../telemetry/trace-context.js';

/**
 * nestjs-pino options: JSON lines, secrets redacted, pretty output only in development. No route gets its request
 * middleware (nothing then runs through @fastify/middie): request lines come from `logRequests`, a Fastify hook.
 */
export function loggerParams(config: AppConfig): Params {
  const pretty = prettyLogs(config);
  return {
    forRoutes: [],
    pinoHttp: {
      level: config.logLevel,
      base: { service: config.telemetry.serviceName },
      mixin: () => traceLogFields(config.telemetry.xrayTraceIds),
      serializers: { err: loggableError },
      timestamp: stdTimeFunctions.isoTime,
      transport: pretty ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
      // Each line written to stdout at once, as Node's console does with a pipe: pino's default hands every write
      // to libuv's thread pool, which cost a request ≈ 10 % of its CPU (bench/README.md); nor is a line lost when
      // the process dies.
      stream: pretty ? undefined : destination({ dest: 1, sync: true }),
      // On the line itself and one level down (`err.token`, `headers.authorization`).
      redact: {
        paths: ['password', 'secret', 'token', 'authorization'].flatMap((field) => [field, `*.${field}`]),
        censor: '[redacted]',
      },
    },
  };
}

/**
 * One line per request once its response is sent or its client has gone (`GET /v1/projects/:id 200 3ms`), with the
 * route pattern when a route matched and never a query string or a secret path. The line's fields are fixed and
 * hold no secret, so they skip the redaction of other log lines.
 */
export function logRequests(fastify: FastifyInstance, logger: Logger): RequestLog {
  const asIs = (value: unknown) => value;
  // pino-http's serializers expect Node's request and response objects.
  const lines = logger.child({}, { redact: { paths: [] }, serializers: { req: asIs, res: asIs } });
  // In the request's context (its span), which a client going away does not close the response in.
  const watch: RequestLog['watch'] = (request, reply) =>
    void reply.raw.once(
      'close',
      context.bind(context.active(), () => logRequest(lines, request, reply)),
    );
  fastify.addHook('onRequest', (request, reply, done) => {
    watch(request, reply);
    done();
  });
  return {
    watch,
    answeredByNode(request, status, requestId) {
      const path = loggablePath(request.url ?? '/');
      lines.info(
        {
          req: { id: requestId, method: request.method, path },
          res: { statusCode: status },
          responseTime: 0,
        },
        `${request.method} ${path} ${status} 0ms`,
      );
    },
  };
}

export interface RequestLog {
  /** Writes the request's line once its answer is sent or its client has gone: for requests no hook sees. */
  watch(request: FastifyRequest, reply: FastifyReply): void;
  /** The line of a request that Node answers itself and Fastify never sees (CONNECT, an `Expect` it cannot meet). */
  answeredByNode(request: IncomingMessage, status: number, requestId: string): void;
}

function logRequest(logger: Logger, request: FastifyRequest, reply: FastifyReply): void {
  // Headers sent: the server answered, even if the client went away before the end of the body.
  const answered = reply.raw.headersSent;
  const status = reply.statusCode;
  // 503 is an expected answer (not ready, draining, database down): worth a warning, not an error.
  const level = !answered ? 'info' : status === 503 ? 'warn' : status >= 500 ? 'error' : 'info';
  if (!logger.isLevelEnabled(level)) return;
  const route = request.routeOptions.url;
  const path = loggablePath(request.url);
  const responseTime = reply.elapsedTime;
  logger[level](
    {
      req: { id: request.id, method: request.method, path },
      res: { statusCode: answered ? status : null },
      responseTime,
      route,
    },
    !answered
      ? `${request.method} ${route ?? path} abandoned by the client after ${Math.round(responseTime)}ms`
      : status >= 500
        ? `${request.method} ${route ?? path} ${status}`
        : `${request.method} ${route ?? path} ${status} ${Math.round(responseTime)}ms`,
  );
}

/**
 * A logged error (as pino-http's serializer has made it, `raw` being the error itself) with each cause nested under
 * `cause` rather than run into its message, so that a PostgreSQL error anywhere in the chain loses the values its
 * message would quote.
 */
function loggableError(error: unknown, seen = new Set<unknown>()): unknown {
  const raw = (error as { raw?: unknown } | null)?.raw ?? error;
  const scrubbed = withoutValues(raw);
  if (scrubbed) return scrubbed;
  if (!(raw instanceof Error) || raw.cause === undefined) return error;
  seen.add(raw);
  const serialized = error === raw ? stdSerializers.err(raw) : (error as object);
  const cause = !(raw.cause instanceof Error)
    ? raw.cause
    : seen.has(raw.cause)
      ? '[Circular]'
      : loggableError(stdSerializers.err(raw.cause), seen);
  return { ...serialized, message: raw.message, stack: raw.stack, cause };
}

/** Pretty logs in development when pino-pretty (a dev dependency) is installed; JSON everywhere else. */
function prettyLogs(config: AppConfig): boolean {
  if (config.env !== 'development') return false;
  try {
    import.meta.resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
