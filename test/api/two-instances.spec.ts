import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { signedInAgain, token, user, type TestCaller } from '../support/tokens.js';
import { until } from '../support/until.js';

/** Sessions of this database waiting for a lock. */
const WAITING_ON_LOCKS = `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;

/** Two instances on one database behave as one. */
describe('two instances', () => {
  let db: TestDatabase;
  let [a, b]: TestApp[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    [a, b] = await Promise.all([
      createTestApp({ databaseUrl: db.url }),
      createTestApp({ databaseUrl: db.url }),
    ]);
  });
  const query = async (statement: string, values: unknown[]) => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    return (await client.query(statement, values).finally(() => client.end())).rows;
  };
  /** The user's first requests, one on each instance: both remember them. */
  const knownToBoth = async (caller: TestCaller) => {
    for (const instance of [a!, b!]) {
      expect((await instance.http().get('/v1/me').set('authorization', caller.authorization)).status).toBe(
        200,
      );
    }
  };
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db?.drop();
  });

  it('a user deleted on one instance, signed in again, can create on the other at once: provisioned again', async () => {
    const deleted = user();
    await knownToBoth(deleted);
    expect((await a!.http().delete('/v1/me').set('authorization', deleted.authorization)).status).toBe(204);
    const alice = signedInAgain(deleted);

    const created = await b!
      .http()
      .post('/v1/projects')
      .set('authorization', alice.authorization)
      .set('idempotency-key', 'after-deletion')
      .send({ name: 'fresh start' });
    expect(created.status).toBe(201);
    const me = await b!.http().get('/v1/me').set('authorization', alice.authorization);
    expect(me.status).toBe(200);
    const listed = await a!.http().get('/v1/projects').set('authorization', alice.authorization);
    expect(listed.body.items.map(({ name }: { name: string }) => name)).toEqual(['fresh start']);
  });

  it("a new sign-in's first request racing a deletion on the other instance makes the new user, not the old id", async () => {
    const deleted = user();
    const { id: oldId } = (await a!.http().get('/v1/me').set('authorization', deleted.authorization)).body;
    // Holds the deletion on a's side while it runs: an open transaction that remembered this sub's deletion first.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`INSERT INTO deleted_users (cognito_sub, deleted_at) VALUES ($1, '2000-01-01')`, [
        deleted.sub,
      ]);
      const deletion = a!.http().delete('/v1/me').set('authorization', deleted.authorization);
      const deletionStatus = deletion.then((response) => response.status);
      await until(async () => (await query(WAITING_ON_LOCKS, [])).length > 0);
      const again = signedInAgain(deleted);
      let answered = false;
      const firstAnswer = b!
        .http()
        .get('/v1/me')
        .set('authorization', again.authorization)
        .then((response) => ((answered = true), response));
      // It waits for the deletion (or, as before, took the old id at once).
      await until(async () => answered || (await query(WAITING_ON_LOCKS, [])).length > 1);
      await holder.query('COMMIT');
      expect(await deletionStatus).toBe(204);
      const me = await firstAnswer;
      expect(me.status).toBe(200);
      expect(me.body.id).not.toBe(oldId);
      const created = await a!
        .http()
        .post('/v1/projects')
        .set('authorization', again.authorization)
        .send({ name: 'new' });
      expect(created.status).toBe(201);
      expect(
        (await b!.http().get(`/v1/projects/${created.body.id}`).set('authorization', again.authorization))
          .status,
      ).toBe(200);
    } finally {
      await holder.end();
    }
  });

  it('a user deleted and made again on one instance reads and changes what they made since on the other', async () => {
    const deleted = user();
    await knownToBoth(deleted);
    expect((await a!.http().delete('/v1/me').set('authorization', deleted.authorization)).status).toBe(204);
    const again = signedInAgain(deleted);
    const project = await a!
      .http()
      .post('/v1/projects')
      .set('authorization', again.authorization)
      .send({ name: 'made again' });
    expect(project.status).toBe(201);

    const listed = await b!.http().get('/v1/projects').set('authorization', again.authorization);
    expect(listed.body.items.map(({ id }: { id: string }) => id)).toEqual([project.body.id]);
    const renamed = await b!
      .http()
      .patch(`/v1/projects/${project.body.id}`)
      .set('authorization', again.authorization)
      .send({ name: 'renamed' });
    expect([renamed.status, renamed.body.name]).toEqual([200, 'renamed']);
  });

  it('a user deleted on one instance is refused with a token of before, on the other too', async () => {
    const dana = user();
    await knownToBoth(dana);
    expect((await a!.http().delete('/v1/me').set('authorization', dana.authorization)).status).toBe(204);
    const stale = await b!.http().get('/v1/me').set('authorization', dana.authorization);
    expect(stale.status).toBe(401);
    expect(stale.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    const created = await b!
      .http()
      .post('/v1/projects')
      .set('authorization', dana.authorization)
      .send({ name: 'x' });
    expect(created.status).toBe(401);
    expect(await query('SELECT 1 FROM users WHERE cognito_sub = $1', [dana.sub])).toEqual([]);
  });

  it('a user deleted on one instance is created again by their next GET /v1/me on the other, once signed in again', async () => {
    const dana = user();
    const first = await b!.http().get('/v1/me').set('authorization', dana.authorization);
    expect(first.status).toBe(200);
    expect((await a!.http().delete('/v1/me').set('authorization', dana.authorization)).status).toBe(204);
    const again = await b!.http().get('/v1/me').set('authorization', signedInAgain(dana).authorization);
    expect(again.status).toBe(200);
    expect(again.body.id).not.toBe(first.body.id);
  });

  it('a user deleted on one instance keeps the display name they then set on the other', async () => {
    const deleted = user();
    await knownToBoth(deleted);
    expect((await a!.http().delete('/v1/me').set('authorization', deleted.authorization)).status).toBe(204);
    const frank = signedInAgain(deleted);
    const changed = await b!
      .http()
      .patch('/v1/me')
      .set('authorization', frank.authorization)
      .send({ displayName: 'Frank' });
    expect(changed.status).toBe(200);
    expect(changed.body.displayName).toBe('Frank');
    const read = await a!.http().get('/v1/me').set('authorization', frank.authorization);
    expect(read.body).toMatchObject({ id: changed.body.id, displayName: 'Frank' });
  });

  it('a user deleted and provisioned again on one instance is deleted for good through the other', async () => {
    const deleted = user();
    await knownToBoth(deleted);
    expect((await a!.http().delete('/v1/me').set('authorization', deleted.authorization)).status).toBe(204);
    const carol = signedInAgain(deleted);
    const kept = await a!
      .http()
      .post('/v1/projects')
      .set('authorization', carol.authorization)
      .set('idempotency-key', 'before-deletion')
      .send({ name: 'kept' });
    expect(kept.status).toBe(201);

    expect((await b!.http().delete('/v1/me').set('authorization', carol.authorization)).status).toBe(204);
    const left = await query(
      `SELECT (SELECT count(*) FROM users WHERE cognito_sub = $1)::int AS users,
              (SELECT count(*) FROM projects WHERE id = $2)::int AS projects,
              (SELECT count(*) FROM idempotency_keys WHERE key = 'before-deletion')::int AS keys`,
      [carol.sub, kept.body.id],
    );
    expect(left).toEqual([{ users: 0, projects: 0, keys: 0 }]);
  });

  it('a token of before a deletion cannot delete, through another instance, the account made since', async () => {
    const deleted = user();
    await knownToBoth(deleted);
    expect((await a!.http().delete('/v1/me').set('authorization', deleted.authorization)).status).toBe(204);
    const erin = signedInAgain(deleted);
    const kept = await a!
      .http()
      .post('/v1/projects')
      .set('authorization', erin.authorization)
      .send({ name: 'kept' });
    expect(kept.status).toBe(201);

    const stale = await b!.http().delete('/v1/me').set('authorization', deleted.authorization);
    expect(stale.status).toBe(401);
    expect(stale.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
    expect(await query('SELECT 1 FROM projects WHERE id = $1', [kept.body.id])).toHaveLength(1);
    expect((await a!.http().get('/v1/me').set('authorization', erin.authorization)).status).toBe(200);
  });

  it("a deleted admin's token of before is refused at once on another instance, reads and writes", async () => {
    const operator = user({ groups: ['admin'] });
    await knownToBoth(operator);
    expect((await a!.http().delete('/v1/me').set('authorization', operator.authorization)).status).toBe(204);
    const read = await b!.http().get('/v1/admin/users').set('authorization', operator.authorization);
    expect(read.status).toBe(401);
    const created = await b!
      .http()
      .post('/v1/tasks')
      .set('authorization', operator.authorization)
      .send({ type: 'approval', title: 'by a deleted admin' });
    expect(created.status).toBe(401);
    expect(await query(`SELECT 1 FROM tasks WHERE title = 'by a deleted admin'`, [])).toEqual([]);
  });

  it("a user deleted on one instance can send events to the other at once: none is lost as a 'duplicate'", async () => {
    const deleted = user();
    await knownToBoth(deleted);
    expect((await a!.http().delete('/v1/me').set('authorization', deleted.authorization)).status).toBe(204);
    const bob = signedInAgain(deleted);

    const events = [{ name: 'app.opened' }, { name: 'app.opened' }, { name: 'report.viewed' }];
    const sent = await b!.http().post('/v1/events').set('authorization', bob.authorization).send({ events });
    expect(sent.status).toBe(202);
    expect(sent.body).toEqual({ accepted: 3, duplicates: 0 });
  });

  it("a known user's email follows their token on an instance that has not seen them yet", async () => {
    // As Cognito issues them: the username is the sub; the email comes from the pool's trigger, or not at all.
    const sub = randomUUID();
    const tokenOf = (email?: string) =>
      `Bearer ${token({ sub, username: sub, ...(email ? { email } : {}) })}`;
    const operator = user({ groups: ['admin'] });
    const search = async (q: string) =>
      (await a!.http().get('/v1/admin/users').query({ q }).set('authorization', operator.authorization)).body
        .items as { username: string; email: string | null }[];

    expect((await a!.http().get('/v1/me').set('authorization', tokenOf())).status).toBe(200);
    expect(await search('erin.first@')).toEqual([]);

    expect(
      (await b!.http().get('/v1/me').set('authorization', tokenOf('erin.first@example.com'))).status,
    ).toBe(200);
    expect(await search('erin.first@')).toEqual([
      expect.objectContaining({ email: 'erin.first@example.com' }),
    ]);

    // A token without an email (a pool without the trigger) does not erase the one known.
    const c = await createTestApp({ databaseUrl: db.url });
    try {
      expect((await c.http().get('/v1/me').set('authorization', tokenOf())).status).toBe(200);
      expect(await search('erin.first@')).toEqual([expect.objectContaining({ username: sub })]);
    } finally {
      await c.close();
    }
  });
});
