import { describe, expect, it } from 'vitest';
import { Database, sql } from '../../src/database/database.js';
import { PROBLEM_TYPES } from '../../src/http/problem.js';
import { API_METHODS } from '../../src/http/route-handlers.js';
import { useTestApp } from '../support/app.js';
import { listRoutes } from '../support/routes.js';
import { ProbeModule } from '../support/probe.module.js';

const PROBLEM_JSON = /^application\/problem\+json/;

describe('HTTP baseline: every error is problem+json', () => {
  const t = useTestApp({
    modules: [ProbeModule],
    env: { HTTP_BODY_LIMIT_BYTES: '2048', CORS_ORIGINS: 'https://app.example.com' },
  });

  function expectProblem(
    response: { status: number; headers: Record<string, string>; body: unknown },
    status: number,
  ) {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.body).toMatchObject({ type: expect.any(String), title: expect.any(String), status });
  }

  it('answers an unknown route with 404', async () => {
    const response = await t.http().get('/no/such/route?x=1');
    expectProblem(response, 404);
    expect(response.body).toMatchObject({
      type: 'about:blank',
      title: 'Not Found',
      instance: '/no/such/route',
    });
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const response = await t.http().delete('/health/live');
    expectProblem(response, 405);
    expect(response.headers.allow).toBe('GET, HEAD');
    const me = await t.http().put('/v1/me').send({});
    expectProblem(me, 405);
    expect(me.headers.allow).toBe('GET, HEAD, PATCH, DELETE');
  });

  it('answers 405 on a path with parameters too', async () => {
    const response = await t.http().put('/v1/projects/0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70').send({});
    expectProblem(response, 405);
    expect(response.headers.allow).toBe('GET, HEAD, PATCH, DELETE');
    // A parameter cannot be empty: `/v1/projects/` is no project's path, whatever the method.
    for (const method of ['get', 'post', 'put', 'delete'] as const) {
      const trailing = await t.http()[method]('/v1/projects/');
      expectProblem(trailing, 404);
      expect(trailing.headers.allow).toBeUndefined();
    }
  });

  it('answers JSON nested too deeply with 400, not a stack overflow', async () => {
    const deep = '['.repeat(1_000) + ']'.repeat(1_000);
    const response = await t
      .http()
      .post('/test-probe/echo')
      .set('content-type', 'application/json')
      .send(deep);
    expectProblem(response, 400);
  });

  it('answers malformed JSON with 400', async () => {
    const response = await t
      .http()
      .post('/test-probe/echo')
      .set('content-type', 'application/json')
      .send('{"name": ');
    expectProblem(response, 400);
  });

  it('answers a missing body on a route that needs one with 400 and a pointer, whatever the content type says', async () => {
    for (const request of [
      t.http().post('/test-probe/echo').set('content-type', 'application/json').send(''),
      t.http().post('/test-probe/echo'),
    ]) {
      const response = await request;
      expectProblem(response, 400);
      expect(response.body.errors).toEqual([{ pointer: '', detail: 'A JSON request body is required.' }]);
    }
  });

  it('treats an empty body with a JSON content type as no body on a route that takes none', async () => {
    const response = await t.http().get('/health/live').set('content-type', 'application/json').send('');
    expect(response.status).toBe(200);
  });

  it('answers a body over the limit with 413', async () => {
    const response = await t
      .http()
      .post('/test-probe/echo')
      .set('content-type', 'application/json')
      .send(JSON.stringify({ name: 'x'.repeat(4096) }));
    expectProblem(response, 413);
  });

  it.each([
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/xml',
    'multipart/form-data; boundary=x',
  ])('answers a %s body with 415', async (contentType) => {
    const response = await t.http().post('/test-probe/echo').set('content-type', contentType).send('name=x');
    expectProblem(response, 415);
  });

  it('answers invalid fields with 400 and a pointer per failure', async () => {
    const response = await t
      .http()
      .post('/test-probe/echo')
      .send({ name: 'x'.repeat(30), count: -1, tags: [{ label: 'ok' }, { label: 42 }] });
    expectProblem(response, 400);
    expect(response.body.type).toBe(PROBLEM_TYPES.validation);
    const pointers = (response.body.errors as { pointer: string }[]).map((error) => error.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/name', '/count', '/tags/1/label']));
  });

  it('rejects unknown fields instead of dropping them', async () => {
    const response = await t.http().post('/test-probe/echo').send({ name: 'ok', isAdmin: true });
    expectProblem(response, 400);
    expect(response.body.errors).toEqual([expect.objectContaining({ pointer: '/isAdmin' })]);
  });

  it('accepts a valid body', async () => {
    const response = await t.http().post('/test-probe/echo').send({ name: 'ok', count: 2 });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ name: 'ok', count: 2 });
  });

  it('answers an unexpected error with a fixed 500 that leaks nothing', async () => {
    const response = await t.http().get('/test-probe/boom');
    expectProblem(response, 500);
    expect(response.body.detail).toBe('An unexpected error occurred.');
    const text = JSON.stringify(response.body);
    for (const leak of ['hunter2', 'secret', '/srv/app', 'internal.ts', 'at '])
      expect(text).not.toContain(leak);
  });

  it('answers a unique violation with 409, not 500', async () => {
    const response = await t.http().get('/test-probe/conflict');
    expectProblem(response, 409);
    expect(JSON.stringify(response.body)).not.toContain('probe_unique');
  });

  it('runs a transaction that lost a deadlock again, and answers 409 with Retry-After when retries do not help', async () => {
    const deadlock = await t.http().get('/test-probe/deadlock');
    expect(deadlock.status).toBe(200);
    expect([...deadlock.body.attempts].sort()).toEqual([1, 2]);
    const failing = await t.http().get('/test-probe/serialization-failure');
    expectProblem(failing, 409);
    expect(failing.headers['retry-after']).toBe('1');
  });

  it('never runs a committed transaction again, whatever a step deferred after its commit throws', async () => {
    const db = t.app.get(Database);
    await db.rows(sql`CREATE TABLE after_commit_runs (run int NOT NULL)`);
    let runs = 0;
    const outcome = db.transaction(async () => {
      runs++;
      await db.rows(sql`INSERT INTO after_commit_runs VALUES (${runs})`);
      await db.afterCommit(() => {
        throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
      });
    });
    await expect(outcome).rejects.toThrow('deadlock detected');
    expect(await db.rows(sql`SELECT run FROM after_commit_runs`)).toEqual([{ run: 1 }]);
  });

  it('answers a database timeout with 503 and Retry-After', async () => {
    const response = await t.http().get('/test-probe/statement-timeout');
    expectProblem(response, 503);
    expect(response.body.type).toBe(PROBLEM_TYPES.databaseUnavailable);
    expect(response.headers['retry-after']).toBe('5');
  });

  describe('X-Request-Id', () => {
    it('echoes an acceptable id on success and in problems', async () => {
      const ok = await t.http().get('/health/live').set('x-request-id', 'client-abc.123');
      expect(ok.headers['x-request-id']).toBe('client-abc.123');
      const problem = await t.http().get('/nope').set('x-request-id', 'client-abc.124');
      expect(problem.headers['x-request-id']).toBe('client-abc.124');
      expect(problem.body.requestId).toBe('client-abc.124');
    });

    it.each([['x'.repeat(200)], ['has space'], ['<script>'], ['new\u00e9line']])(
      'replaces an unacceptable id (%#)',
      async (given) => {
        const response = await t.http().get('/health/live').set('x-request-id', given);
        expect(response.headers['x-request-id']).not.toBe(given);
        expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      },
    );

    it('generates one when absent', async () => {
      const response = await t.http().get('/health/live');
      expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  it('sends security headers', async () => {
    const response = await t.http().get('/health/live');
    expect(response.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'strict-transport-security': expect.stringContaining('max-age='),
      'x-frame-options': 'SAMEORIGIN',
      'cache-control': 'no-store',
    });
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect((await t.http().get('/v1/nothing-here')).headers['cache-control']).toBe('no-store');
  });

  it('allows only the configured CORS origins', async () => {
    const allowed = await t
      .http()
      .options('/health/live')
      .set('origin', 'https://app.example.com')
      .set('access-control-request-method', 'GET');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const denied = await t.http().get('/health/live').set('origin', 'https://evil.example.com');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers an OPTIONS that is not a preflight as one (no text/plain 400)', async () => {
    for (const request of [
      t.http().options('/v1/projects'),
      t.http().options('/v1/projects').set('origin', 'https://app.example.com'),
    ]) {
      const response = await request;
      expect(response.status).toBe(204);
      expect(response.headers['x-request-id']).toBeDefined();
    }
  });

  it('lets a front end of an allowed origin send every method the API has, and no other', async () => {
    const methods = new Set(listRoutes(t.app).map((route) => route.method));
    expect(API_METHODS).toEqual(expect.arrayContaining([...methods]));
    for (const method of ['PATCH', 'DELETE']) {
      const preflight = await t
        .http()
        .options('/v1/me')
        .set('origin', 'https://app.example.com')
        .set('access-control-request-method', method)
        .set('access-control-request-headers', 'authorization, content-type, if-match');
      expect(preflight.status).toBe(204);
      expect(preflight.headers['access-control-allow-methods']?.split(/,\s*/)).toEqual([...API_METHODS]);
      // Answered by the CORS plugin's own hook, it still carries what every answer does.
      expect(preflight.headers['x-request-id']).toBeDefined();
      expect(preflight.headers['x-content-type-options']).toBe('nosniff');
      expect(preflight.headers['cache-control']).toBe('no-store');
    }
  });
});
