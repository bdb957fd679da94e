import { randomUUID } from 'node:crypto';
import { SCOPES } from '../../src/auth/scopes.js';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, useTestApp } from '../support/app.js';
import {
  claims,
  kid,
  machine,
  sign,
  signedInAgain,
  token,
  user,
  type TestCaller,
} from '../support/tokens.js';

describe('users', () => {
  const t = useTestApp();
  let sql: pg.Client;
  beforeAll(async () => {
    sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
  });
  afterAll(async () => {
    await sql?.end();
  });

  const rowsFor = async (caller: TestCaller) =>
    (await sql.query('SELECT * FROM users WHERE cognito_sub = $1', [caller.sub])).rows as Record<
      string,
      unknown
    >[];

  describe('just-in-time provisioning', () => {
    it('creates the users row on the first authenticated request', async () => {
      const alice = user({ username: 'alice', email: 'alice@example.com' });
      expect(await rowsFor(alice)).toHaveLength(0);
      const response = await t.http().get('/v1/me').set('authorization', alice.authorization);
      expect(response.status).toBe(200);
      expect(await rowsFor(alice)).toEqual([
        expect.objectContaining({ username: 'alice', email: 'alice@example.com' }),
      ]);
    });

    it('creates exactly one row for 25 concurrent first requests', async () => {
      const bob = user({ username: 'bob' });
      // Separate app instances share nothing in memory, like separate processes.
      const other = await createTestApp({ databaseUrl: t.db.url });
      try {
        const responses = await Promise.all(
          Array.from({ length: 25 }, (_, i) =>
            (i % 2 ? other : t).http().get('/v1/me').set('authorization', bob.authorization),
          ),
        );
        expect(responses.map((r) => r.status)).toEqual(Array(25).fill(200));
        expect(new Set(responses.map((r) => (r.body as { id: string }).id)).size).toBe(1);
        expect(await rowsFor(bob)).toHaveLength(1);
      } finally {
        await other.close();
      }
    });

    it("keeps the address of the newest token: another device's older token does not bring back the previous one", async () => {
      const sub = randomUUID();
      const username = `kim-${sub.slice(0, 8)}`;
      const now = Math.floor(Date.now() / 1000);
      /** A request with a token signed in and issued `minutesAgo`, still valid (another device keeps it). */
      const requestWith = (email: string, minutesAgo: number) => {
        const at = now - minutesAgo * 60;
        const token = sign(
          { alg: 'RS256', typ: 'JWT', kid: kid() },
          { ...claims({ username, sub, email, signedInAt: at }), iat: at },
        );
        return t.http().get('/v1/me').set('authorization', `Bearer ${token}`).expect(200);
      };
      const emailNow = async () =>
        (await sql.query<{ email: string }>('SELECT email FROM users WHERE cognito_sub = $1', [sub])).rows[0]
          ?.email;
      await requestWith(`${username}@new.example.com`, 1);
      await requestWith(`${username}@old.example.com`, 30);
      expect(await emailNow()).toBe(`${username}@new.example.com`);
      // A newer token brings a newer address.
      await requestWith(`${username}@newest.example.com`, 0);
      expect(await emailNow()).toBe(`${username}@newest.example.com`);
    });

    it('does not provision machine clients', async () => {
      const before = (await sql.query('SELECT count(*) FROM users')).rows[0].count;
      const response = await t
        .http()
        .get('/v1/me')
        .set('authorization', machine(SCOPES.tasksWrite).authorization);
      expect(response.status).toBe(403);
      expect((await sql.query('SELECT count(*) FROM users')).rows[0].count).toBe(before);
    });
  });

  describe('GET /v1/me', () => {
    it('returns the profile, email only when the token carries it, and the groups', async () => {
      const carol = user({ username: 'carol', groups: ['admin', 'beta'] });
      const response = await t.http().get('/v1/me').set('authorization', carol.authorization);
      expect(response.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        username: 'carol',
        displayName: null,
        groups: ['admin', 'beta'],
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      });
    });
  });

  describe('PATCH /v1/me', () => {
    it('changes the display name and clears it with null', async () => {
      const dave = user({ username: 'dave' });
      const renamed = await t
        .http()
        .patch('/v1/me')
        .set('authorization', dave.authorization)
        .send({ displayName: ' Dave ' });
      expect(renamed.status).toBe(200);
      expect(renamed.body.displayName).toBe('Dave');
      const cleared = await t
        .http()
        .patch('/v1/me')
        .set('authorization', dave.authorization)
        .send({ displayName: null });
      expect(cleared.body.displayName).toBeNull();
    });

    it.each([
      [{ displayName: '' }, '/displayName'],
      [{ displayName: 'x'.repeat(101) }, '/displayName'],
      [{ displayName: 42 }, '/displayName'],
      [{ displayName: 'admin\u2028(verified)' }, '/displayName'],
      [{ displayName: '\u2066\u2069' }, '/displayName'],
      [{ nickname: 'x' }, '/nickname'],
      [{ id: '0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70' }, '/id'],
      [{ username: 'root' }, '/username'],
      [{ groups: ['admin'] }, '/groups'],
      [{ createdAt: '2020-01-01T00:00:00Z' }, '/createdAt'],
    ])('refuses %o with 400 and writes nothing', async (body, pointer) => {
      const erin = user({ username: 'erin' });
      await t.http().patch('/v1/me').set('authorization', erin.authorization).send({ displayName: 'Erin' });
      const response = await t.http().patch('/v1/me').set('authorization', erin.authorization).send(body);
      expect(response.status).toBe(400);
      expect(response.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer })]));
      expect((await rowsFor(erin))[0]).toMatchObject({ display_name: 'Erin', username: 'erin' });
    });

    it('refuses a NUL character with 400, not 500', async () => {
      const response = await t
        .http()
        .patch('/v1/me')
        .set('authorization', user().authorization)
        .send({ displayName: 'nul\u0000byte' });
      expect(response.status).toBe(400);
    });

    it('refuses a prototype-pollution attempt', async () => {
      const frank = user();
      const response = await t
        .http()
        .patch('/v1/me')
        .set('authorization', frank.authorization)
        .set('content-type', 'application/json')
        .send('{"__proto__": {"isAdmin": true}, "displayName": "Frank"}');
      expect(response.status).toBe(400);
      expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    });
  });

  describe('DELETE /v1/me', () => {
    it('removes the user for good: a token of before brings nothing back, a new sign-in is a new user', async () => {
      const gina = user({ username: 'gina', email: 'gina@example.com' });
      const first = await t.http().get('/v1/me').set('authorization', gina.authorization);
      expect((await t.http().delete('/v1/me').set('authorization', gina.authorization)).status).toBe(204);
      expect(await rowsFor(gina)).toHaveLength(0);

      // Still valid (access tokens last an hour, and refreshed ones keep their sign-in's auth_time).
      const stale = await t.http().get('/v1/me').set('authorization', gina.authorization);
      expect(stale.status).toBe(401);
      expect(stale.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
      expect(stale.body).toMatchObject({ status: 401, detail: 'This account was deleted; sign in again.' });
      expect(await rowsFor(gina)).toHaveLength(0);

      const again = await t.http().get('/v1/me').set('authorization', signedInAgain(gina).authorization);
      expect(again.status).toBe(200);
      expect(again.body.id).not.toBe(first.body.id);
      // The new user is not the old token's.
      expect((await t.http().get('/v1/me').set('authorization', gina.authorization)).status).toBe(401);
      expect((await t.http().delete('/v1/me').set('authorization', gina.authorization)).status).toBe(401);
      expect(await rowsFor(gina)).toHaveLength(1);
    });

    it("takes out of the audit log the operators' searches that found the user", async () => {
      const email = `hana.${randomUUID().slice(0, 8)}@example.com`;
      const hana = user({ username: `hana-${randomUUID().slice(0, 8)}`, email });
      const operator = user({ groups: ['admin'] });
      await t.http().get('/v1/me').set('authorization', hana.authorization).expect(200);
      const search = (q: string) =>
        t.http().get('/v1/admin/users').query({ q }).set('authorization', operator.authorization).expect(200);
      for (const q of [email, email.slice(0, 10).toUpperCase(), hana.username, 'nobody-by-this-name'])
        await search(q);
      expect((await t.http().delete('/v1/me').set('authorization', hana.authorization)).status).toBe(204);

      const audit = await t
        .http()
        .get('/v1/admin/audit?action=users.listed&limit=100')
        .set('authorization', operator.authorization);
      const trail = JSON.stringify(audit.body);
      for (const name of [email, email.slice(0, 10).toUpperCase(), hana.username])
        expect(trail).not.toContain(name);
      // A search that could not have found them stays as it was.
      expect(trail).toContain('nobody-by-this-name');

      // Where the pool signs in by email, the username is the sub, which searches do not match.
      const sub = randomUUID();
      const ivo = {
        authorization: `Bearer ${token({ sub, username: sub, email: `ivo.${sub.slice(0, 8)}@example.com` })}`,
      };
      await t.http().get('/v1/me').set('authorization', ivo.authorization).expect(200);
      await search(sub.slice(0, 4));
      expect((await t.http().delete('/v1/me').set('authorization', ivo.authorization)).status).toBe(204);
      const after = await t
        .http()
        .get('/v1/admin/audit?action=users.listed&limit=1')
        .set('authorization', operator.authorization);
      expect(after.body.items[0].target.id).toBe(sub.slice(0, 4));
      expect(
        audit.body.items.filter((item: { target: { id: string } }) => item.target.id === 'a deleted user'),
      ).toHaveLength(3);
    });
  });

  describe('GET /v1/admin/users', () => {
    const admin = user({ username: 'operator', groups: ['admin'] });
    const prefix = `zed${Date.now()}`;

    beforeAll(async () => {
      for (let i = 0; i < 7; i++) {
        const member = user({ username: `${prefix}-${i}`, email: `${prefix}-${i}@example.com` });
        await t.http().get('/v1/me').set('authorization', member.authorization);
      }
    });

    it('is for admins only', async () => {
      const response = await t.http().get('/v1/admin/users').set('authorization', user().authorization);
      expect(response.status).toBe(403);
    });

    it('walks every matching user exactly once, newest first, with keyset pages', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const response = await t
          .http()
          .get('/v1/admin/users')
          .query({ q: prefix.toUpperCase(), limit: 3, ...(cursor ? { cursor } : {}) })
          .set('authorization', admin.authorization);
        expect(response.status).toBe(200);
        seen.push(...(response.body.items as { username: string }[]).map((item) => item.username));
        cursor = response.body.nextCursor as string | null;
      } while (cursor);
      expect(seen).toEqual(Array.from({ length: 7 }, (_, i) => `${prefix}-${6 - i}`));
    });

    it('records who looked, and for what, in the audit log', async () => {
      const operatorId = (await t.http().get('/v1/me').set('authorization', admin.authorization)).body
        .id as string;
      const audit = await t
        .http()
        .get(`/v1/admin/audit?actor=${operatorId}&action=users.listed`)
        .set('authorization', admin.authorization);
      expect(audit.body.items[0]).toMatchObject({
        actor: { kind: 'user', id: operatorId },
        target: { type: 'users', id: prefix.toUpperCase() },
        via: 'api',
      });
    });

    it('takes an empty search as none, and records it as such', async () => {
      const operatorId = (await t.http().get('/v1/me').set('authorization', admin.authorization)).body
        .id as string;
      const list = await t.http().get('/v1/admin/users?q=&limit=1').set('authorization', admin.authorization);
      expect(list.status).toBe(200);
      expect(list.body.items).toHaveLength(1);
      const audit = await t
        .http()
        .get(`/v1/admin/audit?actor=${operatorId}&action=users.listed&limit=1`)
        .set('authorization', admin.authorization);
      expect(audit.body.items[0]).toMatchObject({ target: { type: 'users', id: '*' }, details: { q: null } });
    });

    it('answers 400, not 500, for a NUL character in the search or extra fields in the cursor', async () => {
      const search = await t
        .http()
        .get('/v1/admin/users')
        .query({ q: 'a\u0000' })
        .set('authorization', admin.authorization);
      expect(search.status).toBe(400);
      const cursor = Buffer.from(
        JSON.stringify({ after: '0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70', 'a-b': 1 }),
      ).toString('base64url');
      const page = await t
        .http()
        .get('/v1/admin/users')
        .query({ cursor })
        .set('authorization', admin.authorization);
      expect(page.status).toBe(200);
    });

    it('finds people by email where their username is their Cognito sub, and not by that sub', async () => {
      // As Cognito issues them with sign-in by email: the username is the sub.
      const sub = randomUUID();
      const email = `${prefix}-sub@example.com`;
      const bySub = sign(
        { alg: 'RS256', typ: 'JWT', kid: kid() },
        { ...claims({ username: sub, sub }), email },
      );
      await t.http().get('/v1/me').set('authorization', `Bearer ${bySub}`).expect(200);
      const search = async (q: string) =>
        (
          (await t.http().get('/v1/admin/users').query({ q }).set('authorization', admin.authorization))
            .body as { items: { email: string | null }[] }
        ).items.map((item) => item.email);
      expect(await search(email.slice(0, 12))).toContain(email);
      expect(await search(sub.slice(0, 8))).not.toContain(email);
    });

    it('finds people whose names are not ASCII by their own spelling', async () => {
      const names = [`Élodie${prefix}`, `ΟΔΟΣ${prefix}`];
      for (const username of names) {
        await t.http().get('/v1/me').set('authorization', user({ username }).authorization).expect(200);
      }
      for (const username of names) {
        const search = await t
          .http()
          .get('/v1/admin/users')
          .query({ q: username.slice(0, 4) })
          .set('authorization', admin.authorization);
        expect(search.body.items.map((item: { username: string }) => item.username)).toContain(username);
      }
    });

    it('treats LIKE wildcards in the search literally', async () => {
      const response = await t
        .http()
        .get('/v1/admin/users')
        .query({ q: '%' })
        .set('authorization', admin.authorization);
      expect(response.body.items).toEqual([]);
    });

    it.each([['not-a-cursor'], ['eyJhZnRlciI6IjEifQ'], ['e30']])(
      'refuses the malformed cursor %j with 400',
      async (cursor) => {
        const response = await t
          .http()
          .get('/v1/admin/users')
          .query({ cursor })
          .set('authorization', admin.authorization);
        expect(response.status).toBe(400);
      },
    );

    it.each([['0'], ['101'], ['abc'], ['1.5']])('refuses limit=%s with 400', async (limit) => {
      const response = await t
        .http()
        .get('/v1/admin/users')
        .query({ limit })
        .set('authorization', admin.authorization);
      expect(response.status).toBe(400);
    });
  });
});
