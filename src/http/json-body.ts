import type { FastifyBodyParser, FastifyInstance } from 'fastify';
import { unsupportedCoding } from './request.js';
import { settingsOf, unsupportedMediaType } from './route-settings.js';

/** Nesting deeper than this is refused (400): recursive code downstream (validation, hashing) must not overflow. */
const MAX_JSON_DEPTH = 32;

/**
 * Fastify's own JSON parser (prototype-poisoning checks included) plus what the rest of the app relies on: UTF-8 (JSON's
 * only encoding: another charset is a 415, bytes that are not UTF-8 a 400), no nesting deeper than MAX_JSON_DEPTH,
 * finite numbers, and well-formed Unicode (a lone UTF-16 surrogate, which JSON's \uD800 escapes allow, would be
 * stored as U+FFFD, as would bytes that are not UTF-8). An empty body is no body: many clients send
 * `Content-Type: application/json` on every request, a DELETE included; a route that needs a body still answers 400
 * (see the validation pipe).
 */
export function checkedJsonParser(fastify: FastifyInstance): FastifyBodyParser<Buffer> {
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    const coded = unsupportedCoding(request.raw);
    if (coded) return done(coded);
    if (settingsOf(request).formBody) return done(unsupportedMediaType(request));
    const charset = CHARSET.exec(request.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return done(
        Object.assign(new Error(`JSON is UTF-8: charset=${charset} is not supported.`), { statusCode: 415 }),
      );
    }
    if (body.length === 0) return done(null, undefined);
    let text: string;
    try {
      text = UTF8.decode(body);
    } catch {
      return done(badRequest('The body is not valid UTF-8.', ''));
    }
    void parseJson(request, text, (error, value) => done(error ?? jsonProblem(value), value));
  };
}

// An empty `charset=` is no charset.
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)/i;
// A byte-order mark is kept here; Fastify's JSON parser skips a leading one, as RFC 8259 allows.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The first problem found walking the parsed body, as a 400 error the problem filter turns into problem+json. It runs
 * on every JSON body (a batch of events holds thousands of values): the pointer is only spelled out for a problem.
 * Also for values the server builds and stores as JSON (analytics properties), held to the same rules.
 */
export function jsonProblem(value: unknown): Error | null {
  const path: (string | number)[] = [];
  const problem = (detail: string) =>
    badRequest(
      detail,
      path.map((key) => `/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`).join(''),
    );
  const visit = (current: unknown, depth: number): Error | null => {
    if (typeof current === 'string') {
      return current.isWellFormed()
        ? null
        : problem('The body contains text that is not valid Unicode (a lone surrogate).');
    }
    // 1e400 parses to Infinity, which would be stored as null.
    if (typeof current === 'number') {
      return Number.isFinite(current)
        ? null
        : problem('A number is too large to be stored (beyond ±1.8e308).');
    }
    if (current === null || typeof current !== 'object') return null;
    if (depth > MAX_JSON_DEPTH) return problem(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    if (Array.isArray(current)) {
      for (let index = 0; index < current.length; index++) {
        path.push(index);
        const found = visit(current[index], depth + 1);
        if (found) return found;
        path.pop();
      }
      return null;
    }
    // Parsed JSON holds only own, enumerable, plain data: for-in walks it without copying its entries.
    for (const key in current) {
      path.push(key);
      if (!key.isWellFormed()) return problem('A field name is not valid Unicode (a lone surrogate).');
      const found = visit((current as Record<string, unknown>)[key], depth + 1);
      if (found) return found;
      path.pop();
    }
    return null;
  };
  return visit(value, 1);
}

function badRequest(detail: string, pointer: string): Error {
  return Object.assign(new Error(detail), { statusCode: 400, errors: [{ pointer, detail }] });
}
