import {
  context,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
} from '@opentelemetry/api';
import {
  ATTR_CODE_FUNCTION_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
  ATTR_URL_SCHEME,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
} from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { loggablePath } from '../http/route-settings.js';
import { rememberTraceId } from './trace-context.js';

interface Traced {
  span: Span;
  startedAt: number;
}
const TRACED = Symbol('runway.serverSpan');
type TracedRequest = FastifyRequest & { [TRACED]?: Traced };

/**
 * The `SERVER` span and the `http.server.request.duration` histogram of each request, from Fastify's own hooks:
 * named by route (`GET /v1/projects/:id`), continuing the caller's trace (`traceparent`, `X-Amzn-Trace-Id`) and
 * active for everything the request runs, with the Nest handler that answers it (`code.function.name`:
 * `ProjectsController.get`). Health probes are not traced: a load balancer probing every few seconds would drown
 * real traffic. See docs/decisions.md for why this is not the http instrumentation nor a Nest interceptor.
 */
export function traceRequests(fastify: FastifyInstance): void {
  const tracer = trace.getTracer('runway');
  const duration = metrics.getMeter('runway').createHistogram(METRIC_HTTP_SERVER_REQUEST_DURATION, {
    description: 'Duration of HTTP server requests',
    unit: 's',
    advice: {
      explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    },
  });

  fastify.addHook('onRequest', (request: TracedRequest, _reply, done) => {
    if (request.url.startsWith('/health/')) return done();
    const route = request.routeOptions.url;
    // What a sampler may decide on (X-Ray sampling rules match method and path); the rest only for recorded spans.
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: request.method,
      [ATTR_URL_PATH]: loggablePath(request.url),
    };
    if (route) attributes[ATTR_HTTP_ROUTE] = route;
    const parent = propagation.extract(ROOT_CONTEXT, request.headers);
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    if (span.isRecording()) {
      span.setAttribute(ATTR_URL_SCHEME, request.protocol);
      // Nest names the handlers it registers after the controller method; Fastify binds them ("bound …").
      const handler = route && request.routeOptions.handler.name.replace(/^bound /, '');
      if (handler) span.setAttribute(ATTR_CODE_FUNCTION_NAME, handler);
      // Query strings may carry secrets (signed links): keep the parameter names only.
      const query = request.url.split('?', 2)[1];
      if (query)
        span.setAttribute(
          ATTR_URL_QUERY,
          [...new URLSearchParams(query).keys()].map((name) => `${name}=REDACTED`).join('&'),
        );
    }
    rememberTraceId(request.raw, span.spanContext());
    request[TRACED] = { span, startedAt: performance.now() };
    context.with(trace.setSpan(parent, span), done);
  });

  const finish = (request: TracedRequest, status: number | undefined) => {
    const traced = request[TRACED];
    if (!traced) return;
    request[TRACED] = undefined;
    const attributes: Attributes = {
      [ATTR_HTTP_REQUEST_METHOD]: request.method,
      [ATTR_URL_SCHEME]: request.protocol,
    };
    if (request.routeOptions.url) attributes[ATTR_HTTP_ROUTE] = request.routeOptions.url;
    if (status === undefined) {
      attributes[ATTR_ERROR_TYPE] = 'aborted';
    } else {
      attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = status;
      if (status >= 500) attributes[ATTR_ERROR_TYPE] = String(status);
    }
    duration.record((performance.now() - traced.startedAt) / 1000, attributes);
    if (!traced.span.isRecording()) return;
    traced.span.setAttributes(attributes);
    // A 4xx is the server's answer, not its failure (semantic conventions for server spans).
    if (status === undefined || status >= 500) traced.span.setStatus({ code: SpanStatusCode.ERROR });
    traced.span.end();
  };
  fastify.addHook('onResponse', (request: TracedRequest, reply, done) => {
    finish(request, reply.statusCode);
    done();
  });
  fastify.addHook('onRequestAbort', (request: TracedRequest, done) => {
    finish(request, undefined);
    done();
  });
}
