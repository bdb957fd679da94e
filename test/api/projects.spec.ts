import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PURGE_QUEUE } from '../../src/http/idempotency/idempotency.service.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { useTestApp } from '../support/app.js';
import { resourceFactory, uniqueName } from '../support/factories.js';
import { user, type TestCaller } from '../support/tokens.js';
import { until } from '../support/until.js';

const createProject = resourceFactory('/v1/projects', () => ({ name: uniqueName('project') }));

describe('projects', () => {
  const t = useTestApp();
  let sql: pg.Client;
  let owner: TestCaller;
  let stranger: TestCaller;

  beforeAll(async () => {
    sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    owner = user({ username: 'owner' });
    stranger = user({ username: 'stranger' });
  });
  afterAll(async () => {
    await sql?.end();
  });

  const as = (caller: TestCaller) => ({
    get: (path: string) => t.http().get(path).set('authorization', caller.authorization),
    post: (path: string, body?: object) =>
      t.http().post(path).set('authorization', caller.authorization).send(body),
    patch: (path: string, body?: object) =>
      t.http().patch(path).set('authorization', caller.authorization).send(body),
    delete: (path: string) => t.http().delete(path).set('authorization', caller.authorization),
  });
  const count = async (where = 'true', parameters: unknown[] = []) =>
    Number((await sql.query(`SELECT count(*) FROM projects WHERE ${where}`, parameters)).rows[0].count);

  describe('create and read', () => {
    it('creates a project with ETag and Location, and reads it back', async () => {
      const created = await as(owner).post('/v1/projects', { name: ' Apollo ', description: 'to the moon' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/),
        name: 'Apollo',
        description: 'to the moon',
        status: 'active',
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        version: 1,
      });
      expect(created.headers.etag).toBe('"1"');
      expect(created.headers.location).toBe(`/v1/projects/${created.body.id}`);

      const read = await as(owner).get(`/v1/projects/${created.body.id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual(created.body);
      expect(read.headers.etag).toBe('"1"');
    });

    it('answers 409 for a duplicate name of the same owner, but not across owners', async () => {
      await createProject(t, owner, { name: 'Gemini' });
      const duplicate = await as(owner).post('/v1/projects', { name: 'Gemini' });
      expect(duplicate.status).toBe(409);
      expect(duplicate.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((await as(stranger).post('/v1/projects', { name: 'Gemini' })).status).toBe(201);
    });

    it("hides another user's project: 404 on read, update and delete, never 403", async () => {
      const secret = await createProject(t, owner);
      expect((await as(stranger).get(`/v1/projects/${secret.id}`)).status).toBe(404);
      expect((await as(stranger).patch(`/v1/projects/${secret.id}`, { name: 'mine' })).status).toBe(404);
      expect((await as(stranger).delete(`/v1/projects/${secret.id}`)).status).toBe(404);
      expect((await as(owner).get(`/v1/projects/${secret.id}`)).body.name).toBe(secret.name);
    });

    it.each(['not-a-uuid', '123', '0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f7', "x' OR '1'='1"])(
      'answers 400 (not 404 or 500) for the malformed id %j',
      async (id) => {
        const answer = await as(owner).get(`/v1/projects/${encodeURIComponent(id)}`);
        expect(answer.status).toBe(400);
        expect(answer.body).toMatchObject({
          type: 'urn:runway:problem:validation',
          errors: [{ pointer: '/id', detail: expect.any(String) }],
        });
      },
    );

    it('answers 404 for a well-formed id that does not exist', async () => {
      expect((await as(owner).get('/v1/projects/0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70')).status).toBe(404);
    });
  });

  describe('validation writes nothing', () => {
    it.each([
      [{}, '/name'],
      [{ name: '' }, '/name'],
      [{ name: '   ' }, '/name'],
      [{ name: 'x'.repeat(121) }, '/name'],
      [{ name: 'ok', description: 'x'.repeat(2001) }, '/description'],
      [{ name: 'ok', status: 'deleted' }, '/status'],
      [{ name: 'ok', id: '0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70' }, '/id'],
      [{ name: 'ok', ownerId: '0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70' }, '/ownerId'],
      [{ name: 'ok', version: 7 }, '/version'],
      [{ name: 'ok', createdAt: '2020-01-01T00:00:00Z' }, '/createdAt'],
      [{ name: 'ok', color: 'red' }, '/color'],
      [{ name: 'two\nlines' }, '/name'],
      [{ name: 'a\ttab' }, '/name'],
      [{ name: 'invoice\u202Efdp.exe' }, '/name'],
      [{ name: '\u200B\u200D\u00AD' }, '/name'],
      [{ name: '\u3164\u2800' }, '/name'],
      [{ name: '\u0301' }, '/name'],
      [{ name: 'ok', description: 'a bell\u0007' }, '/description'],
    ])('POST %o → 400 at %s', async (body, pointer) => {
      const before = await count();
      const response = await as(owner).post('/v1/projects', body);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer })]));
      expect(await count()).toBe(before);
    });

    it('refuses fields sent to DELETE, which takes no body, and keeps the project; none, or {}, is fine', async () => {
      const project = (await as(owner).post('/v1/projects', { name: 'Takes no body' }).expect(201)).body;
      const remove = (body: unknown) =>
        t
          .http()
          .delete(`/v1/projects/${project.id}`)
          .set('authorization', owner.authorization)
          .send(body as object);
      const refused = await remove({ force: true, cascade: false });
      expect(refused.status).toBe(400);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.body.errors).toEqual([
        { pointer: '/force', detail: 'property force should not exist' },
        { pointer: '/cascade', detail: 'property cascade should not exist' },
      ]);
      expect((await remove(['force'])).status).toBe(400);
      expect((await as(owner).get(`/v1/projects/${project.id}`)).status).toBe(200);
      expect((await remove({})).status).toBe(204);
    });

    it.each([
      [{ name: null }, '/name'],
      [{ name: 'ok', description: null }, '/description'],
      [{ name: 'ok', status: null }, '/status'],
    ])('POST %o (null for an optional field) → 400', async (body, pointer) => {
      const response = await as(owner).post('/v1/projects', body);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer })]));
    });

    it.each([[{ name: null }], [{ description: null }], [{ status: null }]])(
      'PATCH %o → 400, not 500',
      async (body) => {
        const project = await createProject(t, owner);
        expect((await as(owner).patch(`/v1/projects/${project.id}`, body)).status).toBe(400);
      },
    );

    it.each([[{ name: 'nul\u0000byte' }], [{ name: 'ok', description: 'nul\u0000byte' }]])(
      'POST %j (a NUL character) → 400, not 500',
      async (body) => {
        const response = await as(owner).post('/v1/projects', body);
        expect(response.status).toBe(400);
      },
    );

    it.each([
      ['emoji joiners', 'Team 👩‍💻 ❤️'],
      ['marks and embeddings of right-to-left text', '\u05E9\u05DC\u05D5\u05DD \u202BDemo\u202C\u200F'],
    ])('keeps %s in a name, and lines and tabs in a description', async (_what, name) => {
      const body = { name: uniqueName(name), description: 'first line\n\tindented\r\nlast' };
      const response = await as(owner).post('/v1/projects', body);
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject(body);
    });

    it('drops invisible characters around a name, so that it is one name with the plain one', async () => {
      const plain = uniqueName('Alpha');
      expect((await as(owner).post('/v1/projects', { name: plain })).status).toBe(201);
      for (const padded of [`${plain}\u200B`, `\uFEFF${plain}`, ` \u00AD${plain}\u2060 `]) {
        expect((await as(owner).post('/v1/projects', { name: padded })).status).toBe(409);
      }
      expect((await as(owner).post('/v1/projects', { name: '\u200B\u200D' })).status).toBe(400);
    });

    it('answers at once a name of a million spaces between two letters (400, too long)', async () => {
      const response = await as(owner).post('/v1/projects', { name: `a${' '.repeat(1_000_000)}b` });
      expect(response.status).toBe(400);
    });

    it('stores a name in composed form, so that its two spellings are one name', async () => {
      const composed = uniqueName('Caf\u00e9');
      const decomposed = composed.normalize('NFD');
      const created = await as(owner).post('/v1/projects', { name: decomposed });
      expect(created.status).toBe(201);
      expect(created.body.name).toBe(composed);
      expect((await as(owner).post('/v1/projects', { name: composed })).status).toBe(409);
    });

    it('answers 400 for 300,000 levels of nesting with an Idempotency-Key (no stack overflow)', async () => {
      const deep = `{"name":"deep","description":${'['.repeat(300_000)}${']'.repeat(300_000)}}`;
      const response = await t
        .http()
        .post('/v1/projects')
        .set('authorization', owner.authorization)
        .set('idempotency-key', 'deep-body')
        .set('content-type', 'application/json')
        .send(deep);
      expect(response.status).toBe(400);
    });

    it('answers 400 for an empty POST carrying an Idempotency-Key', async () => {
      const response = await t
        .http()
        .post('/v1/projects')
        .set('authorization', owner.authorization)
        .set('idempotency-key', 'empty-body');
      expect(response.status).toBe(400);
    });

    it('refuses __proto__ in the body', async () => {
      const response = await t
        .http()
        .post('/v1/projects')
        .set('authorization', owner.authorization)
        .set('content-type', 'application/json')
        .send('{"name":"proto","__proto__":{"polluted":true}}');
      expect(response.status).toBe(400);
    });

    it.each([[{ version: 9 }], [{ id: 'x' }], [{ ownerId: 'x' }], [{ name: '' }], [{ status: 'gone' }]])(
      'PATCH %o → 400, project unchanged',
      async (body) => {
        const project = await createProject(t, owner);
        expect((await as(owner).patch(`/v1/projects/${project.id}`, body)).status).toBe(400);
        expect((await as(owner).get(`/v1/projects/${project.id}`)).body).toMatchObject({
          name: project.name,
          version: 1,
        });
      },
    );
  });

  describe('list', () => {
    let lister: TestCaller;
    beforeAll(async () => {
      lister = user({ username: 'lister' });
      for (let i = 0; i < 5; i++)
        await createProject(t, lister, { name: `p${i}`, status: i % 2 ? 'archived' : 'active' });
    });

    it('lists only your own projects, newest first', async () => {
      const response = await as(lister).get('/v1/projects');
      expect(response.status).toBe(200);
      expect(response.body.items.map((p: { name: string }) => p.name)).toEqual([
        'p4',
        'p3',
        'p2',
        'p1',
        'p0',
      ]);
      expect(response.body.nextCursor).toBeNull();
    });

    it('filters by status', async () => {
      const response = await as(lister).get('/v1/projects?status=archived');
      expect(response.body.items.map((p: { name: string }) => p.name)).toEqual(['p3', 'p1']);
    });

    it.each([
      ['limit=0'],
      ['limit=101'],
      ['limit=x'],
      ['limit=1&limit=2'],
      ['limit=0x10'],
      ['limit=1e1'],
      ['limit=%205'],
      ['limit='],
      ['status=active&status=archived'],
      ['cursor=a&cursor=b'],
      ['status=gone'],
      ['cursor=bad'],
      ['cursor=e30'],
      ['other=1'],
    ])('answers 400 for ?%s', async (query) => {
      expect((await as(lister).get(`/v1/projects?${query}`)).status).toBe(400);
    });

    it.each(['x', '1.5', '%00'])(
      'says only that ?limit=%s is not an integer, not that it is out of range',
      async (limit) => {
        const response = await as(lister).get(`/v1/projects?limit=${limit}`);
        expect(response.body.errors).toEqual([
          { pointer: '/limit', detail: 'limit must be an integer number' },
        ]);
      },
    );

    it('walks every row exactly once while rows are inserted concurrently', async () => {
      const walker = user({ username: 'walker' });
      const initial = new Set<string>();
      for (let i = 0; i < 30; i++) initial.add((await createProject(t, walker, { name: `w${i}` })).id);

      let inserting = true;
      const inserter = (async () => {
        for (let i = 0; inserting && i < 200; i++) await createProject(t, walker, { name: `late${i}` });
      })();
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await as(walker).get(`/v1/projects?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        seen.push(...page.body.items.map((p: { id: string }) => p.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      inserting = false;
      await inserter;

      expect(new Set(seen).size).toBe(seen.length); // nothing twice
      for (const id of initial) expect(seen).toContain(id); // nothing that existed is missed
    });
  });

  describe('optimistic concurrency', () => {
    it('updates with a matching If-Match, bumps the version and the ETag', async () => {
      const project = await createProject(t, owner);
      const response = await as(owner)
        .patch(`/v1/projects/${project.id}`, { status: 'archived' })
        .set('if-match', project.etag);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'archived', version: 2 });
      expect(response.headers.etag).toBe('"2"');
    });

    // Not a list of entity tags: 400. Tags of another version (weak ones never match): 412.
    it.each([
      ['1', 400],
      ['garbage', 400],
      ['"1", 2', 400],
      ['"1', 400],
      ['"7"', 412],
      ['W/"1"', 412],
      ['"01"', 412],
      ['"abc", W/"2"', 412],
      ['"1,2"', 412],
      [' , "7" ,, ', 412],
    ])('answers If-Match %s with %i and changes nothing', async (ifMatch, status) => {
      const project = await createProject(t, owner);
      const response = await as(owner)
        .patch(`/v1/projects/${project.id}`, { name: 'changed' })
        .set('if-match', ifMatch);
      expect(response.status).toBe(status);
      if (status === 400)
        expect(response.body.detail).toContain('If-Match must be * or a list of entity tags');
      expect((await as(owner).get(`/v1/projects/${project.id}`)).body).toMatchObject({
        name: project.name,
        version: 1,
      });
    });

    // Empty elements and spaces that a backtracking pattern would try in every combination (2^40 ways: days).
    it.each([
      ['40 empty elements', `${',  '.repeat(40)}x`],
      ['8,000 spaces', `${' '.repeat(8000)}x`],
    ])('answers at once an If-Match of %s that is not a list (400)', async (_what, ifMatch) => {
      const project = await createProject(t, owner);
      const response = await as(owner)
        .patch(`/v1/projects/${project.id}`, { name: 'changed' })
        .set('if-match', ifMatch);
      expect(response.status).toBe(400);
    });

    it('accepts If-Match: * and a list that contains the current version', async () => {
      const project = await createProject(t, owner);
      expect(
        (await as(owner).patch(`/v1/projects/${project.id}`, { description: 'a' }).set('if-match', '*'))
          .status,
      ).toBe(200);
      expect(
        (
          await as(owner)
            .patch(`/v1/projects/${project.id}`, { description: 'b' })
            .set('if-match', '"1", "2"')
        ).status,
      ).toBe(200);
    });

    it('50 concurrent PATCHes with the same If-Match: exactly one wins, 49 get 412, version + 1', async () => {
      const project = await createProject(t, owner);
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          as(owner)
            .patch(`/v1/projects/${project.id}`, { description: `writer ${i}` })
            .set('if-match', project.etag),
        ),
      );
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 200)).toHaveLength(1);
      expect(statuses.filter((status) => status === 412)).toHaveLength(49);
      expect((await as(owner).get(`/v1/projects/${project.id}`)).body.version).toBe(2);
    });

    it('deletes when the client sends Content-Type: application/json with no body', async () => {
      const project = await createProject(t, owner);
      const response = await as(owner)
        .delete(`/v1/projects/${project.id}`)
        .set('content-type', 'application/json');
      expect(response.status).toBe(204);
    });

    it('deletes with If-Match: stale → 412 and kept; current → 204 and gone', async () => {
      const project = await createProject(t, owner);
      expect((await as(owner).delete(`/v1/projects/${project.id}`).set('if-match', '"5"')).status).toBe(412);
      expect(
        (await as(owner).delete(`/v1/projects/${project.id}`).set('if-match', project.etag)).status,
      ).toBe(204);
      expect((await as(owner).get(`/v1/projects/${project.id}`)).status).toBe(404);
      expect((await as(owner).delete(`/v1/projects/${project.id}`)).status).toBe(404);
    });
  });

  describe('idempotency', () => {
    const post = (caller: TestCaller, key: string, body: object) =>
      t
        .http()
        .post('/v1/projects')
        .set('authorization', caller.authorization)
        .set('idempotency-key', key)
        .send(body);

    it('replays the stored response to a retry, with Idempotent-Replayed', async () => {
      const key = `key-${Date.now()}`;
      const first = await post(owner, key, { name: 'Mercury' });
      const retry = await post(owner, key, { name: 'Mercury' });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(retry.headers.location).toBe(first.headers.location);
      expect(retry.headers.etag).toBe(first.headers.etag);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect(await count('name = $1', ['Mercury'])).toBe(1);
    });

    it('treats the body canonically: key order does not matter', async () => {
      const key = `order-${Date.now()}`;
      const first = await post(owner, key, { name: 'Vostok', description: 'd' });
      const retry = await t
        .http()
        .post('/v1/projects')
        .set('authorization', owner.authorization)
        .set('idempotency-key', key)
        .set('content-type', 'application/json')
        .send('{"description":"d","name":"Vostok"}');
      expect(retry.status).toBe(201);
      expect(retry.body.id).toBe(first.body.id);
    });

    it('answers 422 when the key is reused with another body or URL', async () => {
      const key = `reuse-${Date.now()}`;
      await post(owner, key, { name: 'Soyuz' });
      const reused = await post(owner, key, { name: 'Shenzhou' });
      expect(reused.status).toBe(422);
      expect(reused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(reused.body.detail).toContain('another URL or body');
      expect(await count('name = $1', ['Shenzhou'])).toBe(0);
      const elsewhere = await t
        .http()
        .post('/v1/projects?from=retry')
        .set('authorization', owner.authorization)
        .set('idempotency-key', key)
        .send({ name: 'Soyuz' });
      expect(elsewhere.status).toBe(422);
    });

    it('scopes keys per caller', async () => {
      const key = `shared-${Date.now()}`;
      const mine = await post(owner, key, { name: 'Skylab' });
      const theirs = await post(stranger, key, { name: 'Skylab' });
      expect(theirs.status).toBe(201);
      expect(theirs.body.id).not.toBe(mine.body.id);
    });

    it('stores nothing for a request that fails validation or conflicts', async () => {
      const key = `invalid-${Date.now()}`;
      expect((await post(owner, key, { name: '' })).status).toBe(400);
      await createProject(t, owner, { name: 'Taken' });
      expect((await post(owner, key, { name: 'Taken' })).status).toBe(409);
      const valid = await post(owner, key, { name: 'Fresh' });
      expect(valid.status).toBe(201);
      expect(valid.headers['idempotent-replayed']).toBeUndefined();
      expect(
        (await sql.query('SELECT count(*) FROM idempotency_keys WHERE key = $1', [key])).rows[0].count,
      ).toBe('1');
    });

    it.each([['x'.repeat(256)], ['has space'], ['é']])(
      'answers 400 for the malformed key %j',
      async (key) => {
        expect((await post(owner, key, { name: `k-${Math.random()}` })).status).toBe(400);
      },
    );

    it('100 sequential retries get 100 identical responses', async () => {
      const key = `retry-${Date.now()}`;
      const responses = [];
      for (let i = 0; i < 100; i++) responses.push(await post(owner, key, { name: 'Voyager' }));
      expect(new Set(responses.map((r) => `${r.status} ${JSON.stringify(r.body)}`)).size).toBe(1);
      expect(responses[0]!.status).toBe(201);
      expect(await count('name = $1', ['Voyager'])).toBe(1);
    });

    it('50 concurrent POSTs with one key: one row, no 5xx, the rest replayed or told to retry', async () => {
      const key = `burst-${Date.now()}`;
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => post(owner, key, { name: 'Pioneer' })),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses.every((status) => status === 201 || status === 409)).toBe(true);
      expect(statuses).toContain(201);
      const ids = new Set(responses.filter((r) => r.status === 201).map((r) => r.body.id));
      expect(ids.size).toBe(1);
      expect(await count('name = $1', ['Pioneer'])).toBe(1);
      const conflicts = responses.filter((r) => r.status === 409);
      for (const conflict of conflicts) expect(conflict.headers['retry-after']).toBeDefined();
    });

    it('forgets expired keys: a purge removes them and the key can be used again', async () => {
      const key = `expired-${Date.now()}`;
      const first = await post(owner, key, { name: 'Luna' });
      await sql.query("UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = $1", [
        key,
      ]);
      // The purge is a scheduled job; run one now and wait for a worker to take it.
      await t.app.get(JobRunner).enqueue(PURGE_QUEUE, {});
      const gone = async () =>
        (await sql.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).rowCount === 0;
      expect(await until(gone)).toBe(true);
      const again = await post(owner, key, { name: 'Luna 2' });
      expect(again.status).toBe(201);
      expect(again.body.id).not.toBe(first.body.id);
    });

    it('keeps keys for at least 24 hours', async () => {
      const key = `ttl-${Date.now()}`;
      await post(owner, key, { name: 'Hubble' });
      const { rows } = await sql.query(
        "SELECT expires_at - created_at >= interval '24 hours' AS long_enough FROM idempotency_keys WHERE key = $1",
        [key],
      );
      expect(rows[0].long_enough).toBe(true);
    });
  });

  it("DELETE /v1/me removes the user's projects", async () => {
    const leaver = user({ username: 'leaver' });
    await createProject(t, leaver);
    await createProject(t, leaver);
    const me = await as(leaver).get('/v1/me');
    expect(await count('owner_id = $1', [me.body.id])).toBe(2);
    expect((await as(leaver).delete('/v1/me')).status).toBe(204);
    expect(await count('owner_id = $1', [me.body.id])).toBe(0);
  });
});
