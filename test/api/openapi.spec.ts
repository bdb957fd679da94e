import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { INTERCEPTORS_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { getMetadataStorage } from 'class-validator';
import { EVENT_NAME } from '../../src/analytics/event-batch.js';
import { routeBudget } from '../../src/auth/rate-limit.guard.js';
import { IdempotencyInterceptor } from '../../src/http/idempotency/idempotency.interceptor.js';
import { ifMatchOf } from '../../src/http/preconditions.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, useTestApp, type TestApp } from '../support/app.js';
import { responseContract, type OpenApiDocument } from '../support/openapi-responses.js';
import { user } from '../support/tokens.js';
import { listRoutes, type AppRoute } from '../support/routes.js';

/** What a route reads from the request, from Nest's own metadata: path, query (its DTO's fields) and headers. */
function acceptedParameters({ path, controller, handler }: AppRoute): string[] {
  const name = (handler as { name: string }).name;
  const args = Object.entries(
    (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, name) ?? {}) as Record<
      string,
      { index: number; factory?: unknown }
    >,
  );
  const types = (Reflect.getMetadata(
    'design:paramtypes',
    (controller as { prototype: object }).prototype,
    name,
  ) ?? []) as (new () => object)[];
  const query = args
    .filter(([key]) => key.startsWith(`${RouteParamtypes.QUERY}:`))
    .flatMap(([, { index }]) =>
      getMetadataStorage()
        .getTargetValidationMetadatas(types[index]!, '', true, false)
        .map(({ propertyName }) => `query:${propertyName}`),
    );
  const interceptors = (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) ?? []) as unknown[];
  return [
    ...[...path.matchAll(/\{(\w+)\}/g)].map(([, param]) => `path:${param}`),
    ...new Set(query),
    ...(args.some(([, { factory }]) => factory === ifMatchOf) ? ['header:If-Match'] : []),
    ...(interceptors.includes(IdempotencyInterceptor) ? ['header:Idempotency-Key'] : []),
  ].sort();
}

describe('OpenAPI', () => {
  const t = useTestApp();

  it('serves a valid OpenAPI 3.x document at /openapi.json', async () => {
    const response = await t.http().get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(response.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every route of the app', async () => {
    const document = (await t.http().get('/openapi.json')).body as {
      paths: Record<string, Record<string, object>>;
    };
    const routes = listRoutes(t.app);
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining(['GET /health/live', 'GET /health/ready']),
    );
    for (const { method, path } of routes) {
      expect(
        document.paths[path]?.[method.toLowerCase()],
        `${method} ${path} is not documented`,
      ).toBeDefined();
    }
  });

  it('documents 429 on every rate-limited route, and only there', async () => {
    const document = (await t.http().get('/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    for (const { method, path, handler, controller } of listRoutes(t.app)) {
      const documented = '429' in document.paths[path]![method.toLowerCase()]!.responses;
      expect(documented, `${method} ${path}`).toBe(routeBudget(handler, controller, method) !== false);
    }
  });

  it('declares exactly the parameters each route accepts, path ids as UUIDs and limits as integers', async () => {
    const document = (await t.http().get('/openapi.json')).body as {
      paths: Record<string, Record<string, { parameters?: { in: string; name: string; schema?: object }[] }>>;
    };
    for (const route of listRoutes(t.app)) {
      const parameters = document.paths[route.path]![route.method.toLowerCase()]!.parameters ?? [];
      expect(parameters.map((p) => `${p.in}:${p.name}`).sort(), `${route.method} ${route.path}`).toEqual(
        acceptedParameters(route),
      );
      for (const parameter of parameters) {
        // Ids are UUIDs; the other path parameters are the emailed link's token and an event name.
        if (parameter.in === 'path')
          expect(parameter.schema).toMatchObject(
            parameter.name === 'token'
              ? { type: 'string' }
              : parameter.name === 'name'
                ? { type: 'string', pattern: EVENT_NAME.source }
                : { type: 'string', format: 'uuid' },
          );
        if (parameter.name === 'limit') expect(parameter.schema).toMatchObject({ type: 'integer' });
      }
    }
  });

  it('says what every object property holds: a nullable field of a DTO needs its type spelled out', async () => {
    type Schema = { type?: string | string[]; properties?: object; additionalProperties?: unknown };
    const document = (await t.http().get('/openapi.json')).body as {
      components: { schemas: Record<string, { properties?: Record<string, Schema> }> };
    };
    const vague = Object.entries(document.components.schemas).flatMap(([name, schema]) =>
      Object.entries(schema.properties ?? {})
        .filter(([, property]) => [property.type ?? []].flat().includes('object'))
        .filter(([, property]) => !property.properties && property.additionalProperties === undefined)
        .map(([field]) => `${name}.${field}`),
    );
    expect(vague).toEqual([]);
  });

  it('names no default in a PATCH body, where a field left out stays as it is, while the create body keeps them', async () => {
    type Schema = { $ref?: string; properties?: Record<string, { default?: unknown }> };
    const document = (await t.http().get('/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>
      >;
      components: { schemas: Record<string, Schema> };
    };
    const schemaOf = ({ $ref }: Schema) => document.components.schemas[$ref!.split('/').at(-1)!]!;
    const patches = Object.values(document.paths).flatMap(({ patch }) =>
      Object.values(patch?.requestBody?.content ?? {}).map(({ schema }) => schemaOf(schema)),
    );
    expect(patches.length).toBeGreaterThan(0);
    for (const patch of patches) {
      expect(Object.values(patch.properties ?? {}).filter((field) => 'default' in field)).toEqual([]);
    }
    expect(document.components.schemas.CreateProjectDto!.properties!.status!.default).toBe('active');
  });

  it('documents 400 (a bad Host) and 431 (headers too large) on every operation, which any request can get', async () => {
    const document = (await t.http().get('/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const missing = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, { responses }]) =>
        ['400', '431']
          .filter((status) => !(status in responses))
          .map((status) => `${method} ${path} ${status}`),
      ),
    );
    expect(missing).toEqual([]);
    expect((await t.http().get('/health/live').set('host', 'a b')).status).toBe(400);
  });

  it('documents 400, 408, 413 and 415 on every write, which a body it does not take is answered with', async () => {
    const document = (await t.http().get('/openapi.json')).body as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const missing = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([method]) => ['post', 'put', 'patch', 'delete'].includes(method))
        .flatMap(([method, { responses }]) =>
          ['400', '408', '413', '415']
            .filter((status) => !(status in responses))
            .map((status) => `${method} ${path} ${status}`),
        ),
    );
    expect(missing).toEqual([]);
    const sent = await t
      .http()
      .delete('/v1/me')
      .set('authorization', user().authorization)
      .set('content-type', 'text/plain')
      .send('x');
    expect(sent.status).toBe(415);
  });

  it('documents 400 and 414 on every path with parameters, as pages too where the answers are pages', async () => {
    const document = (await t.http().get('/openapi.json')).body as OpenApiDocument;
    const missing = Object.entries(document.paths)
      .filter(([path]) => path.includes('{'))
      .flatMap(([path, operations]) =>
        Object.entries(operations).flatMap(([method, { responses }]) =>
          ['400', '414']
            .filter((status) => !(status in responses))
            .map((status) => `${method} ${path} ${status}`),
        ),
      );
    expect(missing).toEqual([]);
    const contract = responseContract(document);
    const long = 'a'.repeat(101);
    for (const [method, path, accept] of [
      ['GET', '/t/%FF', 'text/html'],
      ['GET', '/t/%FF', 'application/json'],
      ['POST', '/t/%FF', 'application/json'],
      ['GET', `/t/${long}`, 'text/html'],
      ['GET', `/v1/projects/${long}`, 'application/json'],
    ] as const) {
      const answer = await t.http()[method === 'GET' ? 'get' : 'post'](path).set('accept', accept);
      expect([
        answer.status,
        contract(method, path.startsWith('/t/') ? '/t/{token}' : '/v1/projects/{id}', answer),
      ]).toEqual([path.includes(long) ? 414 : 400, []]);
    }
  });

  it('documents 409 on every operation that takes a signed-in caller, whose user row may be changing', async () => {
    const document = (await t.http().get('/openapi.json')).body as OpenApiDocument;
    const missing = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([, { responses }]) => '401' in responses && !('409' in responses))
        .map(([method]) => `${method} ${path}`),
    );
    expect(missing).toEqual([]);
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await t.http().get('/docs').redirects(1);
    expect(response.status).toBe(200);
    expect(response.text).toContain('swagger-ui');
    // Its files come from where it was served: over http://localhost too (Safari would upgrade them to https).
    expect(response.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    // One document, in JSON: Swagger's YAML copy is not served.
    expect((await t.http().get('/docs-yaml')).status).toBe(404);
  });

  describe('with API_DOCS_ENABLED=false', () => {
    let hidden: TestApp;
    beforeAll(async () => {
      hidden = await createTestApp({ databaseUrl: t.db.url, env: { API_DOCS_ENABLED: 'false' } });
    });
    afterAll(() => hidden?.close());

    it('serves neither the document nor the UI', async () => {
      expect((await hidden.http().get('/openapi.json')).status).toBe(404);
      expect((await hidden.http().get('/docs')).status).toBe(404);
    });
  });
});
