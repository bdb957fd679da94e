import type { OpenAPIObject } from '@nestjs/swagger';

type Header = { description: string; required?: boolean; schema: { type: string; format?: string } };
type Response = {
  headers?: Record<string, { $ref: string }>;
  content?: Record<string, { schema?: { $ref?: string } }>;
};
type Operation = { parameters?: { name: string; in: string }[]; responses: Record<string, Response> };

/** The response headers clients act on, defined once (`#/components/headers/…`). */
const HEADERS: Record<string, Header> = {
  ETag: {
    description: 'The version as an entity tag ("3"): send it in If-Match to change or delete safely',
    required: true,
    schema: { type: 'string' },
  },
  Location: { description: 'The path of what was created', required: true, schema: { type: 'string' } },
  'Idempotent-Replayed': {
    description: '"true" when this is the stored answer to an earlier request with the same Idempotency-Key',
    schema: { type: 'string' },
  },
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } },
  RateLimit: {
    description: 'Requests left in the window, and seconds until it resets',
    schema: { type: 'string' },
  },
  'RateLimit-Policy': {
    description: 'The limit: requests per window of seconds',
    schema: { type: 'string' },
  },
  'WWW-Authenticate': {
    description: 'The Bearer challenge, and why',
    required: true,
    schema: { type: 'string' },
  },
};

/** Which headers which answers carry, as the app sets them (`@ResourceHeaders()`, the guards, the problem filter). */
function headersOf(
  method: string,
  status: string,
  operation: Operation,
  response: Response,
  versioned: Set<string>,
) {
  const names: string[] = [];
  const ref = response.content?.['application/json']?.schema?.$ref?.split('/').at(-1);
  if (status.startsWith('2') && ref && versioned.has(ref)) {
    names.push('ETag');
    if (method === 'post' && status === '201') names.push('Location');
  }
  if (
    status === '201' &&
    operation.parameters?.some((p) => p.in === 'header' && p.name === 'Idempotency-Key')
  )
    names.push('Idempotent-Replayed');
  // A rate-limited route (one that may answer 429) tells its limit on every answer.
  if ('429' in operation.responses) names.push('RateLimit', 'RateLimit-Policy');
  // A 409 of contention (a deadlock lost three times) says when to retry too.
  if (['409', '429', '503'].includes(status)) names.push('Retry-After');
  if (status === '401' || status === '403') names.push('WWW-Authenticate');
  return names;
}

/** Adds the response headers to every answer of the document that carries them. */
export function documentResponseHeaders(document: OpenAPIObject): OpenAPIObject {
  const schemas = (document.components?.schemas ?? {}) as Record<
    string,
    { properties?: Record<string, unknown> }
  >;
  const versioned = new Set(Object.keys(schemas).filter((name) => schemas[name]!.properties?.version));
  for (const operations of Object.values(document.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(operations)) {
      for (const [status, response] of Object.entries(operation.responses)) {
        const names = headersOf(method, status, operation, response, versioned);
        if (names.length === 0) continue;
        const refs = names.map((name) => [name, { $ref: `#/components/headers/${name}` }] as const);
        // Added to those a route declares itself (a Location the body does not give).
        response.headers = { ...response.headers, ...Object.fromEntries(refs) };
      }
    }
  }
  document.components = { ...document.components, headers: HEADERS };
  return document;
}
