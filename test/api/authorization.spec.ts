import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_POLICY } from '../../src/auth/access-policy.js';
import { useTestApp } from '../support/app.js';
import { listRoutes } from '../support/routes.js';
import { createProject } from '../support/factories.js';
import { machine, user, type TestCaller } from '../support/tokens.js';

type Caller = 'anonymous' | 'user' | 'otherUser' | 'admin' | 'machineWithScope' | 'machineWithoutScope';

/**
 * The authorization matrix: every route of the app × every kind of caller → expected status.
 * A new route must add its row here (the suite fails otherwise). `otherUser` calls the route on a resource the
 * `user` row owns, where that applies.
 */
const MATRIX: Record<string, { body?: () => object; expect: Record<Caller, number> }> = {
  'GET /health/live': { expect: all(200) },
  'GET /health/ready': { expect: all(200) },
  'GET /v1/me': { expect: signedIn(200) },
  'PATCH /v1/me': { body: () => ({ displayName: 'M' }), expect: signedIn(200) },
  'DELETE /v1/me': { expect: signedIn(204) },
  'POST /v1/projects': { body: () => ({ name: `matrix-${randomUUID()}` }), expect: signedIn(201) },
  'GET /v1/projects': { expect: signedIn(200) },
  'GET /v1/projects/{id}': { expect: ownerOnly(200) },
  'PATCH /v1/projects/{id}': { body: () => ({ description: 'm' }), expect: ownerOnly(200) },
  'DELETE /v1/projects/{id}': { expect: ownerOnly(204) },
  'GET /v1/admin/users': {
    expect: {
      anonymous: 401,
      user: 403,
      otherUser: 403,
      admin: 200,
      machineWithScope: 403,
      machineWithoutScope: 403,
    },
  },
};

function all(status: number): Record<Caller, number> {
  return {
    anonymous: status,
    user: status,
    otherUser: status,
    admin: status,
    machineWithScope: status,
    machineWithoutScope: status,
  };
}

function signedIn(status: number): Record<Caller, number> {
  return {
    anonymous: 401,
    user: status,
    otherUser: status,
    admin: status,
    machineWithScope: 403,
    machineWithoutScope: 403,
  };
}

/** A resource of `user`: others (admins included) get 404, as if it did not exist. */
function ownerOnly(status: number): Record<Caller, number> {
  return {
    anonymous: 401,
    user: status,
    otherUser: 404,
    admin: 404,
    machineWithScope: 403,
    machineWithoutScope: 403,
  };
}

describe('authorization', () => {
  const t = useTestApp();
  let callers: Record<Caller, string | undefined>;
  beforeAll(() => {
    callers = {
      anonymous: undefined,
      user: user().authorization,
      otherUser: user().authorization,
      admin: user({ groups: ['admin'] }).authorization,
      machineWithScope: machine('runway/tasks.write').authorization,
      machineWithoutScope: machine('runway/other.read').authorization,
    };
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
    // Resource routes act on a fresh project owned by `user`.
    const path = template.includes('{id}')
      ? template.replace('{id}', (await createProject(t, { authorization: callers.user! } as TestCaller)).id)
      : template;
    const authorization = callers[caller];
    const request = t.http()[method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](path);
    if (authorization) request.set('authorization', authorization);
    const body = MATRIX[route]!.body?.();
    const response = await (body ? request.send(body) : request);
    expect(response.status).toBe(status);
  });
});
