import type { IncomingMessage, ServerResponse } from 'node:http';
import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { stdTimeFunctions } from 'pino';
import type { AppConfig } from '../config/config.js';
import { loggablePath } from './route-settings.js';
import { traceLogFields } from '../telemetry/trace-context.js';

/** Set by an onRequest hook (see app.ts) so the request line names the route pattern, not the raw URL. */
export type RequestWithRoute = IncomingMessage & { id?: string; routePattern?: string };

/** nestjs-pino options: one JSON line per request; secrets redacted; pretty output only in development. */
export function loggerParams(config: AppConfig): Params {
  return {
    // nestjs-pino's default route pattern is not matched by @fastify/middie 9: name every path explicitly.
    forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.logLevel,
      base: { service: config.telemetry.serviceName },
      mixin: () => traceLogFields(config.telemetry.xrayTraceIds),
      timestamp: stdTimeFunctions.isoTime,
      transport: prettyLogs(config) ? { target: 'pino-pretty', options: { singleLine: true } } : undefined,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-api-key"]',
          'res.headers["set-cookie"]',
          '*.password',
          '*.secret',
          '*.token',
        ],
        censor: '[redacted]',
      },
      serializers: {
        req: (req: RequestWithRoute) => ({
          id: req.id,
          method: req.method,
          // The query string may carry secrets, and so may a path (an emailed link): log what is safe to.
          path: loggablePath(req.url),
        }),
        res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
      },
      // 503 is an expected answer (not ready, draining, database down): worth a warning, not an error.
      customLogLevel: (_req, res, error) =>
        res.statusCode === 503 ? 'warn' : error || res.statusCode >= 500 ? 'error' : 'info',
      customSuccessMessage: (req, res, responseTime) => requestSummary(req, res, responseTime),
      customErrorMessage: (req, res) => requestSummary(req, res),
      customSuccessObject: (req, _res, value: Record<string, unknown>) => ({
        ...value,
        route: (req as RequestWithRoute).routePattern,
      }),
      // pino-http would attach a made-up "failed with status code 500" error: the filter logs the real one.
      customErrorObject: (req, _res, _error, { err: _made_up, ...value }: Record<string, unknown>) => ({
        ...value,
        route: (req as RequestWithRoute).routePattern,
      }),
    },
  };
}

/** `GET /v1/projects/:id 200 3ms`: the route pattern when a route matched, never a query string. */
function requestSummary(req: IncomingMessage, res: ServerResponse, responseTime?: number): string {
  const route = (req as RequestWithRoute).routePattern ?? loggablePath(req.url);
  return `${req.method} ${route} ${res.statusCode}${responseTime === undefined ? '' : ` ${Math.round(responseTime)}ms`}`;
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
