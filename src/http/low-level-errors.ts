import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { activeTraceId, rememberedTraceId } from '../telemetry/trace-context.js';
import { commonHeaders } from './common-headers.js';
import type { RequestLog } from './logging.js';
import { sendProblem } from './html-page.js';
import { statusTitle, type ProblemDetails } from './problem.js';
import { REQUEST_ID_HEADER, requestIdFor } from './request.js';
import { API_METHODS } from './route-handlers.js';
import { loggableMessage, loggablePath } from './route-settings.js';

/**
 * What Fastify and Node answer themselves, before any route runs, answered as application/problem+json like every
 * other error: a URL Fastify cannot route (bad encoding 400, a path parameter too long 414), malformed HTTP (400),
 * headers too large (431), a request too slow to arrive (408), CONNECT (405), an unknown `Expect` (417) and an HTTP/1.1
 * request without a `Host` header (400).
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  answerProblem(request, reply, error.statusCode ?? 400, loggableMessage(error.message, request.url));
}

/**
 * What is wrong with the request's `Host` (RFC 9112 §3.2): an HTTP/1.1 request must name one host, in one line, as a
 * host and an optional port. Node's own check of a missing one answers a bare 400 without a body, so the server turns
 * it off (`requireHostHeader: false`) and the first hook that sets headers asks this instead. Node keeps the first of
 * several lines.
 */
export function hostProblem(request: FastifyRequest): string | undefined {
  if (request.headers.host === undefined) {
    return request.raw.httpVersion === '1.0' ? undefined : 'An HTTP/1.1 request needs a Host header.';
  }
  const raw = request.raw.rawHeaders;
  let lines = 0;
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index]!.length === 4 && raw[index]!.toLowerCase() === 'host') lines++;
  }
  if (lines > 1) return 'A request names one host: send one Host header.';
  return HOST.test(request.headers.host)
    ? undefined
    : 'The Host header must be a host, and an optional port.';
}

/** `uri-host [ ":" port ]` (RFC 3986): an IP literal in brackets, or a name or IPv4 address; the port is digits. */
const HOST = /^(?:\[[0-9A-Za-z:.]+\]|[\w\-.~!$&'()*+,;=%]*)(?::\d*)?$/;

/** Ends a request before any route runs (from a hook that does not call `done`) with a problem+json answer. */
export function answerProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  detail: string,
): void {
  const traceId = activeTraceId();
  sendProblem(request, reply, {
    ...problem(status, detail),
    instance: loggablePath(request.url),
    requestId: request.id,
    ...(traceId && { traceId }),
  });
}

/**
 * Node's `clientError`: the request could not be parsed, or did not arrive in time. The socket is closed after the
 * answer, or without one when a response has begun on it (an early 413 whose request then stalls).
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // Node's own handler looks there too.
  const response = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, detail] = CLIENT_ERRORS[error.code ?? ''] ?? [400, 'The request is not valid HTTP.'];
  if (!response) {
    writeRaw(socket, status, problem(status, detail));
    return;
  }
  // A request read whole before the one that fails (pipelined): its answer is its own, then the connection closes.
  if (response.req.complete) {
    response.once('finish', () => socket.end());
    return;
  }
  if (response.headersSent) {
    socket.destroy();
    return;
  }
  // A request under way (its body stalled): answered through its response, so its log line and span show the status.
  const requestId = String(response.getHeader(REQUEST_ID_HEADER) ?? randomUUID());
  const traceId = rememberedTraceId(response.req);
  const text = JSON.stringify({
    ...problem(status, detail),
    instance: loggablePath(response.req.url),
    requestId,
    ...(traceId && { traceId }),
  });
  response
    .writeHead(status, {
      ...commonHeaders(requestId),
      'content-type': 'application/problem+json',
      'content-length': Buffer.byteLength(text),
      connection: 'close',
    })
    .end(text);
}

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'The request line and headers are larger than the server accepts.'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'The request did not arrive in time.'],
};

/**
 * What Node answers before Fastify sees the request, as problem+json: CONNECT is not served (this is no proxy), 405
 * rather than a silently closed connection; an `Expect` other than `100-continue` cannot be met, 417.
 */
export function refuseUnsupported(server: Server, logged: RequestLog['answeredByNode']): void {
  server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    const requestId = requestIdFor(request);
    writeRaw(
      socket,
      405,
      problem(405, 'CONNECT is not supported.'),
      { allow: API_METHODS.join(', ') },
      requestId,
    );
    logged(request, 405, requestId);
  });
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const requestId = requestIdFor(request);
    logged(request, 417, requestId);
    const text = JSON.stringify({
      ...problem(417, 'Only Expect: 100-continue is supported.'),
      instance: loggablePath(request.url),
      requestId,
    });
    response
      .writeHead(417, {
        ...commonHeaders(requestId),
        'content-type': 'application/problem+json',
        'content-length': Buffer.byteLength(text),
        connection: 'close',
      })
      .end(text);
  });
}

function problem(status: number, detail: string): ProblemDetails {
  return { type: 'about:blank', title: statusTitle(status), status, detail };
}

function writeRaw(
  socket: Duplex,
  status: number,
  body: ProblemDetails,
  headers: Record<string, string> = {},
  // When no request was read, its id is made here, and only the answer has it.
  requestId: string = randomUUID(),
): string {
  const text = JSON.stringify({ ...body, requestId });
  const lines = [
    `HTTP/1.1 ${status} ${statusTitle(status)}`,
    `date: ${new Date().toUTCString()}`,
    ...Object.entries(commonHeaders(requestId)).map(([name, value]) => `${name}: ${value}`),
    'content-type: application/problem+json',
    `content-length: ${Buffer.byteLength(text)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${text}`);
  return requestId;
}
