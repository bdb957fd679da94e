import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ProblemException } from './problem.js';

export const REQUEST_ID_HEADER = 'x-request-id';
const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:/=+-]{1,128}$/;

/** Keeps a caller's X-Request-Id when it is short and printable, otherwise makes a new one. */
export function requestIdFor(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * The path of a request URL, without its query string (which may carry secrets, such as signed links), and without
 * the scheme and host of an absolute-form target (`GET http://host/path`, which servers must accept too).
 */
export function pathOf(url: string | undefined): string {
  const target = url?.[0] === '/' || !url ? (url ?? '') : url.replace(SCHEME_AND_HOST, '');
  const end = target.indexOf('?');
  return end === -1 ? target : target.slice(0, end);
}
const SCHEME_AND_HOST = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i;

/**
 * For the body parsers: a body in a content coding (gzip, br) is not decoded here, so it is refused with 415 (RFC 9110
 * allows it) rather than read as if it were plain.
 */
export function unsupportedCoding(request: IncomingMessage): Error | undefined {
  const coding = request.headers['content-encoding']?.trim().toLowerCase();
  if (!coding || coding === 'identity') return undefined;
  return new ProblemException(415, {
    detail: `Content-Encoding ${coding} is not supported: send the body as it is.`,
    // What the request may use instead (RFC 9110 §15.5.16).
    headers: { 'accept-encoding': 'identity' },
  });
}
