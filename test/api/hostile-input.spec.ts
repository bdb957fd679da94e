import type { Response } from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';
import { callerTokens, MATRIX, pathOf, type Caller, type Row } from '../support/route-matrix.js';

/**
 * Every route, sent what clients get wrong: each query parameter, path parameter and body field set in turn to a
 * wrong type, a number out of range, text that is huge, empty or not valid Unicode, by a caller the route admits.
 * Every answer must be below 500, and every refusal problem+json. The routes and their valid requests come from the
 * authorization matrix, their parameters and fields from the OpenAPI document, so a new route is covered at once.
 */
const TEXT = [
  '',
  'x',
  '-1',
  '0',
  '1.5',
  '1e309',
  '99999999999999999999',
  '\u0000',
  '\ud800',
  'é'.repeat(5_000),
  '2026-02-30',
  '0001-01-01T00:00:00Z',
  'null',
  '[]',
  '../..',
];
const JSON_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  1e308,
  true,
  '',
  'x',
  '\u0000',
  '\ud800',
  'é'.repeat(5_000),
  '9999-12-31T23:59:59Z',
  [],
  ['x'],
  {},
  { x: 1 },
];
/** Path parameters: not an id, an id of nothing, too long, encodings that do not decode or decode to NUL. */
const PATH_VALUES = ['x', '00000000-0000-0000-0000-000000000000', 'a'.repeat(101), '%00', '%E0%A4%A', '..'];

/** The emailed links' pages answer a person in a browser: their own refusals are HTML pages. */
const PAGES = /^\/t\//;

/** Callers in the order tried: the first one the route answers with a 2xx sends the hostile requests. */
const ADMITTED: Caller[] = ['user', 'admin', 'machineWithScope', 'anonymous'];

interface Operation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
}
interface Case {
  what: string;
  path: string;
  query?: Record<string, unknown>;
  body?: unknown;
}

describe('hostile input on every route', () => {
  const t = useTestApp({
    env: {
      RATE_LIMIT_READS_PER_MINUTE: '0',
      RATE_LIMIT_WRITES_PER_MINUTE: '0',
      RATE_LIMIT_EVENTS_PER_MINUTE: '0',
    },
  });
  let callers: Record<Caller, string | undefined>;
  let document: {
    paths: Record<string, Record<string, Operation>>;
    components: { schemas: Record<string, Schema> };
  };
  beforeAll(async () => {
    callers = callerTokens();
    document = (await t.http().get('/openapi.json')).body as typeof document;
  });

  it.each(Object.keys(MATRIX))('%s answers below 500, refusals as problem+json', async (route) => {
    const [method, template] = route.split(' ') as [string, string];
    const row = MATRIX[route]!;
    const caller = ADMITTED.find((kind) => row.expect[kind] < 300)!;
    const operation = document.paths[template]?.[method.toLowerCase()] ?? {};
    const path = await pathOf(t, template, row, callers);
    const authorization = (row.endsCaller ? callerTokens() : callers)[caller];
    const failures: string[] = [];
    for (const hostile of cases(template, path, row, operation, document.components.schemas)) {
      const request = t.http()[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](hostile.path);
      if (authorization) void request.set('authorization', authorization);
      void request.query((hostile.query ?? row.query ?? {}) as Record<string, string>);
      const response: Response = await (hostile.body === undefined
        ? request
        : request.type('application/json').send(JSON.stringify(hostile.body)));
      const type = response.headers['content-type'] ?? '';
      const problem =
        /^application\/problem\+json/.test(type) || (PAGES.test(template) && /^text\/html/.test(type));
      if (response.status >= 500 || (response.status >= 400 && !problem)) {
        failures.push(`${hostile.what} → ${response.status} ${JSON.stringify(response.body).slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

function* cases(
  template: string,
  path: string,
  row: Row,
  operation: Operation,
  schemas: Record<string, Schema>,
): Generator<Case> {
  for (const { name, in: where } of operation.parameters ?? []) {
    if (where === 'query') {
      for (const value of TEXT)
        yield { what: `?${name}=${JSON.stringify(value)}`, path, query: { ...row.query, [name]: value } };
      yield { what: `?${name} twice`, path, query: { ...row.query, [name]: ['1', '2'] } };
    }
    if (where === 'path') {
      for (const value of PATH_VALUES) {
        yield { what: `{${name}} = ${value}`, path: template.replace(`{${name}}`, value) };
      }
    }
  }
  const example = row.body?.();
  const schema = resolve(Object.values(operation.requestBody?.content ?? {})[0]?.schema, schemas);
  if (!example && !schema) return;
  const base = (example ?? {}) as Record<string, unknown>;
  for (const body of [[], 'x', 0, [base]]) yield { what: `body ${JSON.stringify(body)}`, path, body };
  const fields = new Set([...Object.keys(schema?.properties ?? {}), ...leaves(base)]);
  for (const field of fields) {
    for (const value of JSON_VALUES) {
      yield {
        what: `${field} = ${JSON.stringify(value).slice(0, 40)}`,
        path,
        body: withValue(base, field, value),
      };
    }
  }
}

function resolve(schema: Schema | undefined, schemas: Record<string, Schema>): Schema | undefined {
  return schema?.$ref ? schemas[schema.$ref.split('/').pop()!] : schema;
}

/** The pointers of the example's members, a few levels down (`events/0/name`). */
function leaves(value: unknown, prefix = '', depth = 0): string[] {
  if (depth > 3 || value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, member]) => {
    const pointer = `${prefix}${key}`;
    return [pointer, ...leaves(member, `${pointer}/`, depth + 1)];
  });
}

function withValue(base: Record<string, unknown>, pointer: string, value: unknown): unknown {
  const copy = structuredClone(base);
  const keys = pointer.split('/');
  let target: Record<string, unknown> = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  target[keys.at(-1)!] = value;
  return copy;
}
