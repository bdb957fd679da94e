import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  NotFoundException,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { trace } from '@opentelemetry/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { QueryFailedError } from 'typeorm';
import { activeTraceId } from '../telemetry/trace-context.js';
import { PROBLEM_TYPES, ProblemException, statusTitle, type ProblemDetails } from './problem.js';

interface Answer {
  problem: ProblemDetails;
  headers: Record<string, string>;
}

/** PostgreSQL/driver signs that the database, not the request, is at fault: answer 503, not 500. */
const DATABASE_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement timeout)
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const DATABASE_UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Cannot execute operation because connection is not yet established)/i;
const CONFLICT_CODES = new Set(['23505', '23503']); // unique_violation, foreign_key_violation
/** Input the database cannot store (e.g. a NUL character in text): the request's fault, not the server's. */
const BAD_INPUT_CODES = new Set(['22021', '22P05', '22001']);
export const RETRY_AFTER_SECONDS = '5';

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
    problem.instance = request.url.split('?')[0];
    problem.requestId = request.id;
    const traceId = activeTraceId();
    if (traceId) problem.traceId = traceId;

    // Deliberate 5xx answers (HttpException) are expected; anything else reaching 5xx is a bug or an outage.
    if (problem.status >= 500 && !(exception instanceof HttpException)) {
      this.logger.error(
        { err: exception, problem, route: request.routeOptions.url, method: request.method },
        'request failed: %s',
        problem.title,
      );
      trace.getActiveSpan()?.recordException(exception instanceof Error ? exception : String(exception));
    }
    void reply.status(problem.status).headers(headers).type('application/problem+json').send(problem);
  }

  /** No route matched, but the path exists with other methods: 405 with `Allow`, not 404. */
  private methodNotAllowed(exception: unknown, request: FastifyRequest): Answer | undefined {
    if (!(exception instanceof NotFoundException) || request.routeOptions.url !== undefined) return undefined;
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const path = request.url.split('?')[0]!;
    const allowed = HTTP_METHODS.filter((method) => fastify.findRoute({ method, url: path }));
    if (allowed.length === 0) return undefined;
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

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

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
    return { problem: plainProblem(fastifyStatus, (exception as Error).message), headers: {} };
  }
  if (isDatabaseUnavailable(exception)) {
    return {
      problem: {
        ...plainProblem(HttpStatus.SERVICE_UNAVAILABLE, 'The database is unavailable; retry later.'),
        type: PROBLEM_TYPES.databaseUnavailable,
      },
      headers: { 'retry-after': RETRY_AFTER_SECONDS },
    };
  }
  if (exception instanceof QueryFailedError && BAD_INPUT_CODES.has(driverCode(exception) ?? '')) {
    return {
      problem: plainProblem(HttpStatus.BAD_REQUEST, 'The request contains text the database cannot store.'),
      headers: {},
    };
  }
  if (exception instanceof QueryFailedError && CONFLICT_CODES.has(driverCode(exception) ?? '')) {
    return {
      problem: plainProblem(HttpStatus.CONFLICT, 'The request conflicts with the current state.'),
      headers: {},
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

function driverCode(exception: unknown): string | undefined {
  const error = exception as { code?: unknown; driverError?: { code?: unknown } } | null;
  const code = error?.driverError?.code ?? error?.code;
  return typeof code === 'string' ? code : undefined;
}

function isDatabaseUnavailable(exception: unknown): boolean {
  return (
    DATABASE_UNAVAILABLE_CODES.has(driverCode(exception) ?? '') ||
    (exception instanceof Error && DATABASE_UNAVAILABLE_MESSAGES.test(exception.message))
  );
}
