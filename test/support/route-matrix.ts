import { SCOPES } from '../../src/auth/scopes.js';
import type { TestApp } from './app.js';
import { resourceFactory, uniqueName } from './factories.js';
import { admin, createTask } from './tasks.js';
import { machine, user } from './tokens.js';

export type Caller =
  'anonymous' | 'user' | 'otherUser' | 'admin' | 'machineWithScope' | 'machineWithoutScope';

/**
 * The authorization matrix: every route of the app × every kind of caller → expected status.
 * A new route must add its row here (the suite fails otherwise). `otherUser` calls the route on a resource the
 * `user` row owns, where that applies.
 */
export interface Row {
  body?: () => object;
  /** The body is sent as an HTML form, not JSON. */
  form?: boolean;
  query?: Record<string, string>;
  /** For a `{id}` route: creates the resource (owned by `user`) that the route acts on. */
  create?: () => object;
  /** For a route with a path parameter on something users do not own: makes it (as an admin) and gives its key. */
  target?: (t: TestApp) => Promise<string>;
  /** The route ends the caller's account (DELETE /v1/me): called by callers of its own, not the shared ones. */
  endsCaller?: true;
  expect: Record<Caller, number>;
}

export const MATRIX: Record<string, Row> = {
  'GET /health/live': { expect: all(200) },
  'GET /health/ready': { expect: all(200) },
  'GET /v1/me': { expect: signedIn(200) },
  'PATCH /v1/me': { body: () => ({ displayName: 'M' }), expect: signedIn(200) },
  'DELETE /v1/me': { endsCaller: true, expect: signedIn(204) },
  ...ownerScopedResource('/v1/projects', {
    create: () => ({ name: uniqueName('matrix') }),
    change: () => ({ description: 'm' }),
  }),
  'POST /v1/events': { body: () => ({ events: [{ name: 'matrix.checked' }] }), expect: signedIn(202) },
  ...analyticsQueries({ from: '2026-11-01', to: '2026-11-30' }),
  'POST /v1/projects/{id}/review-requests': {
    create: () => ({ name: uniqueName('review') }),
    expect: ownerOnly(201),
  },
  'GET /v1/projects/{id}/review': { create: () => ({ name: uniqueName('review') }), expect: ownerOnly(200) },
  ...tasks(),
  'GET /v1/admin/audit': { expect: adminOnly(200) },
  'GET /t/{token}': { expect: all(404) },
  'POST /t/{token}': { body: () => ({ outcome: 'approved' }), form: true, expect: all(404) },
  'GET /v1/admin/jobs': { expect: adminOnly(200) },
  'GET /v1/admin/users': { expect: adminOnly(200) },
  'GET /v1/admin/users/{id}/activity': {
    target: async (t) =>
      (await t.http().get('/v1/me').set('authorization', user().authorization)).body.id as string,
    expect: adminOnly(200),
  },
  // new:resource adds rows above this line
};

/** The five routes of an owner-scoped resource: anyone signed in creates and lists; only the owner sees one. */
function ownerScopedResource(
  path: string,
  bodies: { create: () => object; change: () => object },
): Record<string, Row> {
  return {
    [`POST ${path}`]: { body: bodies.create, expect: signedIn(201) },
    [`GET ${path}`]: { expect: signedIn(200) },
    [`GET ${path}/{id}`]: { create: bodies.create, expect: ownerOnly(200) },
    [`PATCH ${path}/{id}`]: { create: bodies.create, body: bodies.change, expect: ownerOnly(200) },
    [`DELETE ${path}/{id}`]: { create: bodies.create, expect: ownerOnly(204) },
  };
}

/** The admin analytics endpoints, each asked about one range. */
function analyticsQueries(range: { from: string; to: string }): Record<string, Row> {
  const asked = (query: Record<string, string> = range): Row => ({ query, expect: adminOnly(200) });
  return {
    'GET /v1/admin/analytics/active-users': asked(),
    'GET /v1/admin/analytics/events': asked(),
    'GET /v1/admin/analytics/events/{name}': { ...asked(), target: () => Promise.resolve('matrix.checked') },
    'GET /v1/admin/analytics/funnel': asked({ ...range, steps: 'user.signed_up,project.created' }),
    'GET /v1/admin/analytics/retention': asked({ ...range, interval: 'week' }),
    'GET /v1/admin/analytics/lifecycle': asked({ ...range, interval: 'day' }),
    'GET /v1/admin/analytics/summary': asked({}),
  };
}

/** Machine clients with the tasks scopes and admins create and read tasks; operators (admins) decide them. */
function tasks(): Record<string, Row> {
  const target = async (t: TestApp) => (await createTask(t, {}, admin())).id;
  const reason = () => ({ reason: 'matrix' });
  const scoped = (status: number, machineStatus = status) => ({
    ...adminOnly(status),
    machineWithScope: machineStatus,
  });
  return {
    'POST /v1/tasks': { body: () => ({ type: 'approval', title: 'matrix' }), expect: scoped(201) },
    'GET /v1/tasks/{id}': { target, expect: scoped(200) },
    // A machine client cancels only the tasks it created (this one an admin created).
    'POST /v1/tasks/{id}/cancel': { target, body: reason, expect: scoped(200, 404) },
    'GET /v1/admin/tasks': { expect: adminOnly(200) },
    'POST /v1/admin/tasks/{id}/claim': { target, expect: adminOnly(200) },
    'POST /v1/admin/tasks/{id}/decision': {
      target,
      body: () => ({ outcome: 'approved' }),
      expect: adminOnly(200),
    },
    'POST /v1/admin/tasks/{id}/cancel': { target, body: reason, expect: adminOnly(200) },
  };
}

function adminOnly(status: number): Record<Caller, number> {
  return {
    anonymous: 401,
    user: 403,
    otherUser: 403,
    admin: status,
    machineWithScope: 403,
    machineWithoutScope: 403,
  };
}

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

/** A bearer token for each kind of caller (none for `anonymous`). */
export function callerTokens(): Record<Caller, string | undefined> {
  return {
    anonymous: undefined,
    user: user().authorization,
    otherUser: user().authorization,
    admin: user({ groups: ['admin'] }).authorization,
    machineWithScope: machine(`${SCOPES.tasksWrite} ${SCOPES.tasksRead}`).authorization,
    machineWithoutScope: machine('runway/other.read').authorization,
  };
}

/** The row's path with its parameter filled: a fresh resource of `user`'s, or the row's own target. */
export async function pathOf(
  t: TestApp,
  template: string,
  row: Row,
  callers: Record<Caller, string | undefined>,
): Promise<string> {
  if (row.target) return template.replace(/\{\w+\}/, await row.target(t));
  if (!row.create) return template;
  const collection = template.slice(0, template.indexOf('/{id}'));
  const created = await resourceFactory(collection, row.create)(t, { authorization: callers.user! });
  return template.replace('{id}', created.id);
}
