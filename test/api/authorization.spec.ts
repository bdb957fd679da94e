import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_POLICY } from '../../src/auth/access-policy.js';
import { useTestApp } from '../support/app.js';
import { responseContract, type OpenApiDocument } from '../support/openapi-responses.js';
import { listRoutes } from '../support/routes.js';
import { callerTokens, MATRIX, pathOf, type Caller } from '../support/route-matrix.js';

describe('authorization', () => {
  const t = useTestApp();
  let callers: Record<Caller, string | undefined>;
  let contract: ReturnType<typeof responseContract>;
  beforeAll(async () => {
    callers = callerTokens();
    contract = responseContract((await t.http().get('/openapi.json')).body as OpenApiDocument);
  });

  it('every route declares an access policy (public, signed-in user, role or scope)', () => {
    const missing = listRoutes(t.app)
      .filter(
        ({ controller, handler }) =>
          Reflect.getMetadata(ACCESS_POLICY, handler) === undefined &&
          Reflect.getMetadata(ACCESS_POLICY, controller) === undefined,
      )
      .map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });

  it('every route has a row in the matrix, and every row is a route', () => {
    const routes = listRoutes(t.app).map(({ method, path }) => `${method} ${path}`);
    expect(Object.keys(MATRIX).sort()).toEqual([...new Set(routes)].sort());
  });

  const rows = Object.entries(MATRIX).flatMap(([route, row]) =>
    (Object.entries(row.expect) as [Caller, number][]).map(
      ([caller, status]) => [route, caller, status] as const,
    ),
  );

  it.each(rows)('%s as %s → %i', async (route, caller, status) => {
    const [method, template] = route.split(' ') as [string, string];
    const row = MATRIX[route]!;
    // Resource routes act on a fresh resource owned by `user`.
    const path = await pathOf(t, template, row, callers);
    const authorization = (row.endsCaller ? callerTokens() : callers)[caller];
    const request = t.http()[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](path);
    if (authorization) request.set('authorization', authorization);
    if (row.query) void request.query(row.query);
    if (row.form) void request.type('form');
    const body = row.body?.();
    const response = await (body ? request.send(body) : request);
    expect(response.status).toBe(status);
    expect(contract(method, template, response)).toEqual([]);
  });
});
