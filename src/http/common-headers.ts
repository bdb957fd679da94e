import type { FastifyReply, FastifyRequest } from 'fastify';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER } from './request.js';

/**
 * Security headers from helmet, worked out once: they are the same on every response. Nothing is stored by a browser
 * or proxy (the API's answers hold users' data), unless a route says otherwise (the back office's files).
 */
const COMMON_HEADERS = { ...securityHeaders(), 'cache-control': 'no-store' };

/** The headers every answer carries, for one Node writes itself: the common ones and the request's id. */
export function commonHeaders(requestId: string): Record<string, string> {
  return { ...COMMON_HEADERS, [REQUEST_ID_HEADER]: requestId };
}

/** The headers every answer carries: the common ones and the request's id. */
export function setCommonHeaders(request: FastifyRequest, reply: FastifyReply): void {
  void reply.headers(COMMON_HEADERS).header(REQUEST_ID_HEADER, request.id);
  // On Node's response too, for an answer Node writes itself (a body that stalls: answerClientError).
  reply.raw.setHeader(REQUEST_ID_HEADER, request.id);
}

/** The headers helmet's defaults set, read off a response it is given once. */
function securityHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: () => undefined,
  };
  // Not `upgrade-insecure-requests`: the API's one page of its own (Swagger UI at /docs) loads its files from where it
  // was served, which in production is https already, and Safari would upgrade http://localhost to https, breaking it.
  helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } })(
    {} as IncomingMessage,
    response as unknown as ServerResponse,
    () => undefined,
  );
  return headers;
}
