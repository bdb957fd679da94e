import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  NotFoundException,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { trace, type Exception } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { classifyPostgresError, sqlState } from '../database/postgres-errors.js';
import { activeTraceId } from '../telemetry/trace-context.js';
import { sendProblem } from './html-page.js';
import { PROBLEM_TYPES, ProblemException, statusTitle, type ProblemDetails } from './problem.js';
import { pathOf } from './request.js';
import { loggableMessage, loggablePath } from './route-settings.js';
import { retryAfter } from './retry-after.js';
import { API_METHODS } from './route-handlers.js';

interface Answer {
  problem: ProblemDetails;
  headers: Record<string, string>;
}

/**
 * The one exception filter: every error leaves as RFC 9457 application/problem+json.
 * 4xx details are safe to show; 5xx bodies carry a fixed message, the cause goes to the log only.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  constructor(
    @InjectPinoLogger(ProblemFilter.name) private readonly logger: PinoLogger,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const { problem, headers } = this.methodNotAllowed(exception, request) ?? answerFor(exception);
    problem.instance = loggablePath(request.url);
    // Framework messages quote the URL ("Cannot GET /t/…"), whose path or query may be a secret.
    if (problem.detail) problem.detail = loggableMessage(problem.detail, request.url);
    problem.requestId = request.id;
    const traceId = activeTraceId();
    if (traceId) problem.traceId = traceId;

    // Deliberate 5xx answers (HttpException) are expected; anything else reaching 5xx is a bug or an outage. An
    // outage's 503 (the database down or too slow) is a warning, as every 503 is: errors stay the bugs' own.
    if (problem.status >= 500 && !(exception instanceof HttpException)) {
      this.logger[problem.status === 503 ? 'warn' : 'error'](
        {
          err: exception,
          problem,
          req: { id: request.id },
          route: request.routeOptions.url,
          method: request.method,
        },
        'request failed: %s',
        problem.title,
      );
      trace.getActiveSpan()?.recordException(traceable(exception));
    }
    sendProblem(request, reply, problem, headers);
  }

  /** No route matched, but the path exists with other methods: 405 with `Allow`, not 404. */
  private methodNotAllowed(exception: unknown, request: FastifyRequest): Answer | undefined {
    if (!(exception instanceof NotFoundException) || request.routeOptions.url !== undefined) return undefined;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const path = pathOf(request.url);
    // The router does not serve a parameter left empty (`/v1/projects/`), though it finds a route for it.
    const allowed: string[] = API_METHODS.filter((method) => {
      const route = fastify.findRoute({ method, url: path });
      return route !== null && !Object.values(route.params).includes('');
    });
    // A route of this very method that found nothing (a missing static file) is a 404.
    if (allowed.length === 0 || allowed.includes(request.method)) return undefined;
    const allow = allowed.join(', ');
    return {
      problem: plainProblem(
        HttpStatus.METHOD_NOT_ALLOWED,
        `${request.method} is not supported here; use ${allow}.`,
      ),
      headers: { allow },
    };
  }
}

function answerFor(exception: unknown): Answer {
  if (exception instanceof ProblemException) {
    const status = exception.getStatus();
    const { type = 'about:blank', detail, extensions = {}, headers = {} } = exception.problem;
    return { problem: { ...extensions, type, title: statusTitle(status), status, detail }, headers };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return { problem: plainProblem(status, status < 500 ? exception.message : undefined), headers: {} };
  }
  const fastifyStatus = clientErrorStatusOf(exception);
  if (fastifyStatus !== undefined) {
    const { errors } = exception as { errors?: unknown };
    const problem = plainProblem(fastifyStatus, (exception as Error).message);
    return {
      problem: errors ? { ...problem, type: PROBLEM_TYPES.validation, errors } : problem,
      headers: {},
    };
  }
  switch (classifyPostgresError(exception)) {
    case 'unavailable':
      return {
        problem: {
          ...plainProblem(HttpStatus.SERVICE_UNAVAILABLE, 'The database is unavailable; retry later.'),
          type: PROBLEM_TYPES.databaseUnavailable,
        },
        headers: retryAfter('databaseUnavailable'),
      };
    case 'unstorable':
      return {
        problem: plainProblem(
          HttpStatus.BAD_REQUEST,
          'The request contains a value the database cannot store.',
        ),
        headers: {},
      };
    case 'conflict':
      return {
        problem: plainProblem(HttpStatus.CONFLICT, 'The request conflicts with the current state.'),
        headers: {},
      };
    case 'contention':
      return {
        problem: plainProblem(HttpStatus.CONFLICT, 'Other requests were changing the same data; retry.'),
        headers: retryAfter('concurrentChange'),
      };
  }
  return {
    problem: plainProblem(HttpStatus.INTERNAL_SERVER_ERROR, 'An unexpected error occurred.'),
    headers: {},
  };
}

function plainProblem(status: number, detail?: string): ProblemDetails {
  return { type: 'about:blank', title: statusTitle(status), status, ...(detail ? { detail } : {}) };
}

/** Errors raised by Fastify itself before a handler runs (body parsing, media type, size) carry a 4xx statusCode. */
function clientErrorStatusOf(exception: unknown): number | undefined {
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** What a span records of an unexpected error: a PostgreSQL error by its code alone, its message may quote a value. */
function traceable(exception: unknown): Exception {
  const code = sqlState(exception);
  if (code) return { name: 'DatabaseError', code, message: `PostgreSQL error ${code}` };
  return exception instanceof Error ? exception : String(exception);
}
