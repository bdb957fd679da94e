import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ActivityRepository } from '../../src/analytics/activity.repository.js';
import { AnalyticsService } from '../../src/analytics/analytics.service.js';
import { EventNamesRepository } from '../../src/analytics/event-names.repository.js';
import { EventPartitions } from '../../src/analytics/event-partitions.js';
import { monthStarting, PartitionsRepository } from '../../src/analytics/partitions.repository.js';
import { RollupsRepository } from '../../src/analytics/rollups.repository.js';
import { Database, sql as statement } from '../../src/database/database.js';
import { Clock } from '../../src/utils/clock.js';
import { useTestApp } from '../support/app.js';
import { someoneWaitsForLock } from '../support/database.js';
import { uniqueName } from '../support/factories.js';
import { user, type TestCaller } from '../support/tokens.js';
import { until } from '../support/until.js';

const NOW = new Date('2026-11-20T12:00:00.000Z');
const DAY_MS = 86_400_000;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();

/** Collecting events and activity, erasing them, and the partitions they live in; the numbers are checked
 * against a brute-force model in analytics-properties.spec.ts. */
describe('analytics', () => {
  // A small global body limit, to show that POST /v1/events has its own (2 MiB).
  const t = useTestApp({ env: { HTTP_BODY_LIMIT_BYTES: '65536' } });
  let sql: pg.Client;
  let now: Date;
  let admin: TestCaller;

  beforeAll(async () => {
    sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    vi.spyOn(t.app.get(Clock), 'now').mockImplementation(() => now);
    admin = user({ groups: ['admin'] });
  });
  beforeEach(() => {
    now = NOW;
  });
  afterAll(async () => {
    await sql?.end();
  });

  const send = (caller: TestCaller, body: unknown) =>
    t
      .http()
      .post('/v1/events')
      .set('authorization', caller.authorization)
      .send(body as object);
  const ask = (path: string, query: Record<string, string>) =>
    t.http().get(`/v1/admin/analytics/${path}`).set('authorization', admin.authorization).query(query);
  const userIdOf = async (caller: TestCaller) =>
    (await sql.query<{ id: string }>('SELECT id FROM users WHERE cognito_sub = $1', [caller.sub])).rows[0]
      ?.id;
  const eventsOf = async (caller: TestCaller) =>
    (
      await sql.query<{ name: string; id: string | null }>(
        'SELECT name, id FROM analytics_events WHERE user_id = $1 ORDER BY occurred_at, name',
        [await userIdOf(caller)],
      )
    ).rows;
  const activeDaysOf = async (userId: string) =>
    (
      await sql.query<{ day: string }>(
        'SELECT day::text FROM analytics_active_days WHERE user_id = $1 ORDER BY day',
        [userId],
      )
    ).rows.map(({ day }) => day);

  describe('POST /v1/events', () => {
    it('stores a batch and answers 202 with what was accepted; a resent id is a duplicate, not stored twice', async () => {
      const caller = user();
      const [first, second] = [randomUUID(), randomUUID()];
      const batch = {
        events: [
          { id: first, name: 'checkout.started', occurredAt: at(-DAY_MS), properties: { plan: 'pro' } },
          { id: first, name: 'checkout.started', occurredAt: at(-DAY_MS) },
          { name: 'page:viewed' },
        ],
      };
      const response = await send(caller, batch);
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ accepted: 2, duplicates: 1 });

      const retried = await send(caller, {
        events: [
          { id: first, name: 'checkout.started', occurredAt: at(-DAY_MS) },
          { id: second, name: 'x' },
        ],
      });
      expect(retried.body).toEqual({ accepted: 1, duplicates: 1 });
      expect(await eventsOf(caller)).toEqual([
        { name: 'checkout.started', id: first },
        { name: 'page:viewed', id: null },
        { name: 'user.signed_up', id: null },
        { name: 'x', id: second },
      ]);
    });

    it('takes the user from the token: ids are per user, so another user may use the same one', async () => {
      const id = randomUUID();
      const [a, b] = [user(), user()];
      expect((await send(a, { events: [{ id, name: 'shared' }] })).body).toEqual({
        accepted: 1,
        duplicates: 0,
      });
      expect((await send(b, { events: [{ id, name: 'shared' }] })).body).toEqual({
        accepted: 1,
        duplicates: 0,
      });
    });

    it('accepts occurredAt from exactly 7 days ago to exactly 5 minutes ahead, in any offset', async () => {
      const response = await send(user(), {
        events: [
          { name: 'edge', occurredAt: at(-7 * DAY_MS) },
          { name: 'edge', occurredAt: at(5 * 60_000) },
          { name: 'edge', occurredAt: '2026-11-20T17:30:00+05:30' },
          { name: 'edge', occurredAt: '2026-11-20t12:00z' },
        ],
      });
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ accepted: 4, duplicates: 0 });
    });

    const event = (fields: object) => ({ name: 'ok', ...fields });
    const INVALID: [string, unknown, string][] = [
      ['no body', undefined, ''],
      ['an array body', [event({})], ''],
      ['no events', {}, '/events'],
      ['an empty batch', { events: [] }, '/events'],
      ['501 events', { events: Array.from({ length: 501 }, () => event({})) }, '/events'],
      ['events that are not a list', { events: { 0: event({}) } }, '/events'],
      ['an unknown top-level field', { events: [event({})], user: 'someone-else' }, '/user'],
      ['an event that is not an object', { events: ['ok'] }, '/events/0'],
      ['a missing name', { events: [{}] }, '/events/0/name'],
      ['an upper-case name', { events: [event({ name: 'Signup' })] }, '/events/0/name'],
      ['a name with a space', { events: [event({ name: 'sign up' })] }, '/events/0/name'],
      ['a name of 65 characters', { events: [event({ name: 'a'.repeat(65) })] }, '/events/0/name'],
      ['a name that is a number', { events: [event({ name: 7 })] }, '/events/0/name'],
      ['an id that is not a UUID', { events: [event({ id: 'abc' })] }, '/events/0/id'],
      ['a numeric id', { events: [event({ id: 12 })] }, '/events/0/id'],
      ['occurredAt not a date', { events: [event({ occurredAt: 'yesterday' })] }, '/events/0/occurredAt'],
      [
        'occurredAt on Feb 30',
        { events: [event({ occurredAt: '2026-02-30T00:00:00Z' })] },
        '/events/0/occurredAt',
      ],
      [
        'occurredAt without an offset',
        { events: [event({ occurredAt: '2026-11-20T10:00:00' })] },
        '/events/0/occurredAt',
      ],
      ['occurredAt as a number', { events: [event({ occurredAt: NOW.getTime() })] }, '/events/0/occurredAt'],
      [
        'occurredAt over 7 days ago',
        { events: [event({ occurredAt: at(-7 * DAY_MS - 1) })] },
        '/events/0/occurredAt',
      ],
      [
        'occurredAt over 5 minutes ahead',
        { events: [event({ occurredAt: at(5 * 60_000 + 1) })] },
        '/events/0/occurredAt',
      ],
      ['properties as a list', { events: [event({ properties: [1] })] }, '/events/0/properties'],
      ['properties as text', { events: [event({ properties: 'plan=pro' })] }, '/events/0/properties'],
      ['null properties', { events: [event({ properties: null })] }, '/events/0/properties'],
      [
        'properties over 2 KiB',
        { events: [event({ properties: { x: 'y'.repeat(2041) } })] },
        '/events/0/properties',
      ],
      [
        'a NUL character in properties',
        { events: [event({ properties: { x: 'a\u0000b' } })] },
        '/events/0/properties',
      ],
      ['an unknown event field', { events: [event({ userId: randomUUID() })] }, '/events/0/userId'],
      [
        'a field named like a prototype member',
        { events: [event({ constructor: 1 })] },
        '/events/0/constructor',
      ],
      [
        'one bad event after three good ones',
        { events: [event({}), event({}), event({}), event({ name: '' })] },
        '/events/3/name',
      ],
    ];

    it.each(INVALID)('refuses %s with 400, storing nothing', async (_case, body, pointer) => {
      const caller = user();
      const request = t.http().post('/v1/events').set('authorization', caller.authorization);
      const response = await (body === undefined
        ? request.set('content-type', 'application/json')
        : request.send(body as object));
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body.errors).toContainEqual({ pointer, detail: expect.any(String) });
      expect((await eventsOf(caller)).map(({ name }) => name)).toEqual(['user.signed_up']);
    });

    it('stores text that only reads like an escaped NUL', async () => {
      const caller = user();
      const response = await t
        .http()
        .post('/v1/events')
        .set('authorization', caller.authorization)
        .send({ events: [event({ name: 'file.opened', properties: { path: 'C:\\u0000dir' } })] });
      expect(response.status).toBe(202);
      expect((await eventsOf(caller)).map(({ name }) => name).sort()).toEqual([
        'file.opened',
        'user.signed_up',
      ]);
    });

    it('accepts 2 KiB of properties exactly, and the largest batch the schema allows, indented, above the global limit', async () => {
      const exactly = { x: 'y'.repeat(2040) };
      expect(Buffer.byteLength(JSON.stringify(exactly))).toBe(2048);
      const largest = Array.from({ length: 500 }, () => ({
        id: randomUUID(),
        name: `big.${'n'.repeat(60)}`,
        occurredAt: at(0).replace('Z', '+00:00'),
        properties: exactly,
      }));
      const text = JSON.stringify({ events: largest }, null, 2);
      expect(Buffer.byteLength(text)).toBeGreaterThan(1024 * 1024);
      const response = await t
        .http()
        .post('/v1/events')
        .set('authorization', user().authorization)
        .set('content-type', 'application/json')
        .send(text);
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ accepted: 500, duplicates: 0 });
    });

    it('answers 413 problem+json above 2 MiB', async () => {
      const caller = user();
      const huge = { events: [{ name: 'huge', properties: { x: 'y'.repeat(2 * 1024 * 1024) } }] };
      const response = await send(caller, huge);
      expect(response.status).toBe(413);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    });

    it('counts each day once when batches of one user race', async () => {
      const caller = user();
      await send(caller, { events: [{ name: 'warm' }] });
      const userId = (await userIdOf(caller))!;
      const days = [1, 2, 3, 4, 5, 6].map((ago) => at(-ago * DAY_MS));
      const before = await summaryOn(at(-DAY_MS).slice(0, 10));
      await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          send(caller, { events: days.slice(i % 3).map((occurredAt) => ({ name: 'race', occurredAt })) }),
        ),
      );
      expect(await activeDaysOf(userId)).toHaveLength(7);
      expect(await summaryOn(at(-DAY_MS).slice(0, 10))).toEqual({
        dau: before.dau + 1,
        wau: before.wau + 1,
        mau: before.mau + 1,
      });
    });
  });

  const summaryOn = async (day: string) => {
    const { rows } = await sql.query<{ dau: number; wau: number; mau: number }>(
      'SELECT sum(dau)::int AS dau, sum(wau)::int AS wau, sum(mau)::int AS mau FROM analytics_daily_counts WHERE day = $1 HAVING count(*) > 0',
      [day],
    );
    return rows[0] ?? { dau: 0, wau: 0, mau: 0 };
  };

  describe('admin queries', () => {
    const range = { from: '2026-11-01', to: '2026-11-30' };
    const INVALID: [string, string, Record<string, string>, string][] = [
      ['active-users', 'no from', { to: range.to }, '/from'],
      ['active-users', 'a date that does not exist', { ...range, from: '2026-02-30' }, '/from'],
      ['active-users', 'a date with a time', { ...range, to: '2026-11-30T00:00:00Z' }, '/to'],
      [
        'retention',
        'the last day of year 9999',
        { from: '9999-12-31', to: '9999-12-31', interval: 'day' },
        '/from',
      ],
      [
        'lifecycle',
        'a range to year 9999',
        { from: '9999-12-27', to: '9999-12-31', interval: 'week' },
        '/to',
      ],
      ['events', 'a day before 1970', { from: '1969-12-31', to: '1970-01-31' }, '/from'],
      ['active-users', 'to before from', { from: '2026-11-30', to: '2026-11-01' }, '/to'],
      ['events', '367 days', { from: '2025-01-01', to: '2026-01-02' }, '/to'],
      ['events', 'an unknown parameter', { ...range, page: '2' }, '/page'],
      ['summary', 'a range, which it does not take', { from: '2026-11-01' }, '/from'],
      ['events', 'a limit of 0', { ...range, limit: '0' }, '/limit'],
      ['events', 'a limit over 1000', { ...range, limit: '1001' }, '/limit'],
      ['events', 'a limit that is no decimal integer', { ...range, limit: '1e2' }, '/limit'],
      ['retention', 'interval month', { ...range, interval: 'month' }, '/interval'],
      ['lifecycle', 'interval empty', { ...range, interval: '' }, '/interval'],
      ['funnel', 'no steps', { ...range }, '/steps'],
      ['funnel', 'one step', { ...range, steps: 'a' }, '/steps'],
      ['funnel', 'eleven steps', { ...range, steps: 'a,b,c,d,e,f,g,h,i,j,k' }, '/steps'],
      ['funnel', 'a step twice', { ...range, steps: 'a,b,a' }, '/steps'],
      ['funnel', 'a step that is no event name', { ...range, steps: 'a,B C' }, '/steps'],
      ['funnel', 'a window over 90 days', { ...range, steps: 'a,b', window: 'P91D' }, '/window'],
      ['funnel', 'a window in weeks', { ...range, steps: 'a,b', window: 'P1W' }, '/window'],
      ['funnel', 'a window that is no duration', { ...range, steps: 'a,b', window: '7 days' }, '/window'],
      ['funnel', 'an empty window', { ...range, steps: 'a,b', window: 'P' }, '/window'],
    ];

    it.each(INVALID)('%s: refuses %s with 400', async (path, _case, query, pointer) => {
      const response = await ask(path, query);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body.errors).toContainEqual({ pointer, detail: expect.any(String) });
    });

    it('accepts a range of 366 days and windows up to P90D', async () => {
      expect((await ask('active-users', { from: '2024-01-01', to: '2024-12-31' })).status).toBe(200);
      expect(
        (await ask('retention', { from: '2999-12-01', to: '2999-12-31', interval: 'week' })).status,
      ).toBe(200);
      expect(
        (await ask('lifecycle', { from: '1970-01-01', to: '1970-01-31', interval: 'week' })).status,
      ).toBe(200);
      const funnel = await ask('funnel', { ...range, steps: 'a,b', window: 'P90D' });
      expect(funnel.status).toBe(200);
      expect((await ask('funnel', { ...range, steps: 'a,b', window: 'P1DT12H30M' })).status).toBe(200);
    });

    it('reports the 100 most sent events unless a limit (up to 1000) says otherwise', async () => {
      const names = Array.from({ length: 101 }, (_, i) => ({
        name: `many.names.${i}`,
        occurredAt: at(-DAY_MS),
      }));
      expect((await send(user(), { events: [...names, names[0]!] })).status).toBe(202);
      const day = at(-DAY_MS).slice(0, 10);
      const report = await ask('events', { from: day, to: day });
      expect(report.body.items).toHaveLength(100);
      expect(report.body.items).toContainEqual(expect.objectContaining({ name: 'many.names.0', count: 2 }));
      const counts = (report.body.items as { count: number }[]).map(({ count }) => count);
      expect(counts).toEqual([...counts].sort((a, b) => b - a));
      expect((await ask('events', { from: day, to: day, limit: '1000' })).body.items.length).toBeGreaterThan(
        100,
      );
      expect((await ask('events', { from: day, to: day, limit: '1' })).body.items).toHaveLength(1);
    });

    it('answers every endpoint for a range with no data', async () => {
      const empty = { from: '2020-01-01', to: '2020-01-14' };
      expect((await ask('active-users', empty)).body.days).toHaveLength(14);
      expect((await ask('events', empty)).body).toEqual({ items: [] });
      expect((await ask('funnel', { ...empty, steps: 'a,b' })).body.steps).toEqual([
        { name: 'a', users: 0, conversion: 1, dropOff: 0 },
        { name: 'b', users: 0, conversion: 0, dropOff: 0 },
      ]);
      expect((await ask('retention', { ...empty, interval: 'week' })).body.cohorts).toEqual([
        { start: '2020-01-06', size: 0, retained: [0, 0] },
        { start: '2020-01-13', size: 0, retained: [0] },
      ]);
      expect((await ask('lifecycle', { ...empty, interval: 'week' })).body.periods).toHaveLength(2);
    });
  });

  describe('server-side activity', () => {
    it('marks a signed-in user active once a day, whatever the number of requests', async () => {
      const caller = user();
      const record = vi.spyOn(t.app.get(ActivityRepository), 'record');
      try {
        for (let i = 0; i < 5; i++) await t.http().get('/v1/me').set('authorization', caller.authorization);
        now = new Date(NOW.getTime() + DAY_MS);
        for (let i = 0; i < 5; i++) await t.http().get('/v1/me').set('authorization', caller.authorization);
        const userId = (await userIdOf(caller))!;
        const writes = record.mock.calls.filter(([writes]) =>
          writes.some((write) => write.userId === userId && write.activeAt.length > 0),
        );
        expect(writes).toHaveLength(2);
        expect(await activeDaysOf(userId)).toEqual(['2026-11-20', '2026-11-21']);
      } finally {
        record.mockRestore();
      }
    });

    it('records user.signed_up once, and project.created with the project', async () => {
      const caller = user();
      const create = (name: string) =>
        t.http().post('/v1/projects').set('authorization', caller.authorization).send({ name });
      const name = uniqueName('p');
      expect((await create(name)).status).toBe(201);
      expect((await create(name)).status).toBe(409);
      expect((await eventsOf(caller)).map((e) => e.name).sort()).toEqual([
        'project.created',
        'user.signed_up',
      ]);
    });

    it("leaves the synthetic journey's user out: no events, never active; the same requests count for others", async () => {
      const [canary, person] = [user({ groups: ['synthetic'] }), user()];
      for (const caller of [canary, person]) {
        await t.http().get('/v1/me').set('authorization', caller.authorization).expect(200);
        await t
          .http()
          .post('/v1/projects')
          .set('authorization', caller.authorization)
          .send({ name: uniqueName('synthetic') })
          .expect(201);
        await t
          .http()
          .post('/v1/events')
          .set('authorization', caller.authorization)
          .send({ events: [{ name: 'journey.checked', occurredAt: now.toISOString() }] })
          .expect(202, { accepted: 1, duplicates: 0 });
        const id = randomUUID();
        await t
          .http()
          .post('/v1/events')
          .set('authorization', caller.authorization)
          .send({
            events: [
              { id, name: 'journey.retried' },
              { id, name: 'journey.retried' },
            ],
          })
          .expect(202, { accepted: 1, duplicates: 1 });
      }
      expect(await eventsOf(canary)).toEqual([]);
      expect(await activeDaysOf((await userIdOf(canary))!)).toEqual([]);
      expect((await eventsOf(person)).map((e) => e.name).sort()).toEqual([
        'journey.checked',
        'journey.retried',
        'project.created',
        'user.signed_up',
      ]);
      expect(await activeDaysOf((await userIdOf(person))!)).toEqual(['2026-11-20']);
    });

    it('runs the analytics write as a statement each connection prepares once', async () => {
      const caller = user();
      expect((await t.http().get('/v1/me').set('authorization', caller.authorization)).status).toBe(200);
      const userId = (await userIdOf(caller))!;
      const [db, activity] = [t.app.get(Database), t.app.get(ActivityRepository)];
      const options = { timeZone: 'UTC', duplicatesSince: new Date(0) };
      const runs = await db.transaction(async () => {
        await activity.lockUsers([userId]);
        for (let i = 0; i < 7; i++) await activity.record([{ userId, events: [], activeAt: [now] }], options);
        return db.row<{ runs: number }>(statement`
          SELECT (generic_plans + custom_plans)::int AS runs FROM pg_prepared_statements
          WHERE name = 'analytics_record'`);
      });
      expect(runs?.runs).toBeGreaterThanOrEqual(7);
    });

    it('stores an event tracked in a transaction once it commits, never when it rolls back', async () => {
      const caller = user();
      expect((await t.http().get('/v1/me').set('authorization', caller.authorization)).status).toBe(200);
      const userId = (await userIdOf(caller))!;
      const [db, analytics] = [t.app.get(Database), t.app.get(AnalyticsService)];
      const names = async () => (await eventsOf(caller)).map((e) => e.name).sort();

      const rollback = db.transaction(async () => {
        await analytics.track(userId, 'work.rolled_back');
        throw new Error('rolled back');
      });
      await expect(rollback).rejects.toThrow('rolled back');
      await db.transaction(async () => {
        await analytics.track(userId, 'work.committed');
        expect(await names()).toEqual(['user.signed_up']); // not before the commit
      });
      expect(await names()).toEqual(['user.signed_up', 'work.committed']);
    });

    it("writes every user's server-side events of the moment in one statement, a missing user's aside", async () => {
      const callers = [user(), user(), user()];
      for (const caller of callers)
        expect((await t.http().get('/v1/me').set('authorization', caller.authorization)).status).toBe(200);
      const userIds = await Promise.all(callers.map(async (caller) => (await userIdOf(caller))!));
      const analytics = t.app.get(AnalyticsService);
      const record = vi.spyOn(t.app.get(ActivityRepository), 'record');
      try {
        const gone = randomUUID();
        await Promise.all([...userIds, gone, userIds[0]!].map((id) => analytics.track(id, 'report.opened')));
        expect(record.mock.calls.map(([writes]) => writes.map(({ userId }) => userId).sort())).toEqual([
          [...userIds].sort(),
        ]);
      } finally {
        record.mockRestore();
      }
      const counts = await Promise.all(
        callers.map(
          async (caller) => (await eventsOf(caller)).filter((e) => e.name === 'report.opened').length,
        ),
      );
      expect(counts).toEqual([2, 1, 1]);
    });

    it.each([
      ['being deleted', 'SELECT FROM users WHERE id = $1 FOR UPDATE'],
      ['sending events', "SELECT pg_advisory_xact_lock(x'616e61'::int, hashtext($1::uuid::text))"],
    ])(
      'writes the others at once when a user is %s, and that user once free, however long',
      async (_, hold) => {
        const [held, free] = [user(), user()];
        for (const caller of [held, free])
          expect((await t.http().get('/v1/me').set('authorization', caller.authorization)).status).toBe(200);
        const [heldId, freeId] = [(await userIdOf(held))!, (await userIdOf(free))!];
        const analytics = t.app.get(AnalyticsService);
        const deletion = new pg.Client({ connectionString: t.db.url });
        await deletion.connect();
        try {
          // What DELETE /v1/me, or POST /v1/events through another instance, holds until it commits.
          await deletion.query('BEGIN');
          await deletion.query(hold, [heldId]);
          const record = vi.spyOn(t.app.get(ActivityRepository), 'record');
          const shared = (caller: TestCaller) =>
            eventsOf(caller).then((events) => events.filter((e) => e.name === 'report.shared').length);
          try {
            const heldCalls = Array.from({ length: 20 }, () => analytics.track(heldId, 'report.shared'));
            await analytics.track(freeId, 'report.shared');
            expect(await shared(free)).toBe(1);
            // Longer than any number of tries would wait: the held user's calls wait for the lock itself.
            await new Promise((resolve) => setTimeout(resolve, 1_600));
            expect(await shared(held)).toBe(0);
            await deletion.query('ROLLBACK');
            await Promise.all(heldCalls);
            expect(await shared(held)).toBe(20);
            // Waiting together, in one write at a time: never a connection per call.
            const heldWrites = record.mock.calls.filter(([writes]) =>
              writes.some((w) => w.userId === heldId),
            );
            expect(heldWrites.length).toBeLessThanOrEqual(2);
          } finally {
            record.mockRestore();
          }
        } finally {
          await deletion.end();
        }
      },
    );

    it('marks each day of a user active when requests either side of midnight share a write', async () => {
      const [night, morning] = [user(), user()];
      for (const caller of [night, morning])
        expect((await t.http().get('/v1/me').set('authorization', caller.authorization)).status).toBe(200);
      const [nightId, morningId] = [(await userIdOf(night))!, (await userIdOf(morning))!];
      const range = { from: '2026-09-14', to: '2026-09-15' };
      const counts = async () =>
        (await ask('active-users', range)).body.days.map(({ dau, mau }: { dau: number; mau: number }) => [
          dau,
          mau,
        ]);
      const before = await counts();
      const analytics = t.app.get(AnalyticsService);
      const marks = [
        [nightId, '2026-09-14T23:59:59.900Z'],
        [nightId, '2026-09-15T00:00:00.100Z'],
        [morningId, '2026-09-15T08:00:00.000Z'],
      ].map(([id, at]) => {
        now = new Date(at!);
        return analytics.markActive(id!);
      });
      for (const mark of marks) await mark;
      now = NOW; // the admin's requests below are marked active too
      expect(await activeDaysOf(nightId)).toEqual(['2026-09-14', '2026-09-15', '2026-11-20']);
      expect(await activeDaysOf(morningId)).toEqual(['2026-09-15', '2026-11-20']);
      const { rows: first } = await sql.query<{ first_day: string }>(
        'SELECT first_day::text FROM analytics_users WHERE user_id = ANY($1) ORDER BY first_day',
        [[nightId, morningId]],
      );
      expect(first.map(({ first_day }) => first_day)).toEqual(['2026-09-14', '2026-09-15']);
      const after = await counts();
      expect(
        after.map(([dau, mau]: number[], i: number) => [dau! - before[i][0], mau! - before[i][1]]),
      ).toEqual([
        [1, 1],
        [2, 2],
      ]);
      now = new Date('2026-09-15T09:00:00.000Z');
      expect(analytics.markActive(nightId)).toBeUndefined(); // remembered: no write
      now = NOW;
    });

    it('refuses properties that POST /v1/events would refuse', async () => {
      const analytics = t.app.get(AnalyticsService);
      await expect(
        analytics.track(randomUUID(), 'report.shared', { text: 'x'.repeat(3000) }),
      ).rejects.toThrow(/at most 2048 bytes/);
      await expect(analytics.track(randomUUID(), 'report.shared', { text: 'a\u0000b' })).rejects.toThrow(
        /U\+0000/,
      );
      const refused = [
        { text: '😀'.slice(0, 1) },
        { ratio: Infinity },
        { deep: JSON.parse('['.repeat(40) + ']'.repeat(40)) },
      ];
      for (const properties of refused)
        await expect(analytics.track(randomUUID(), 'report.shared', properties)).rejects.toThrow(
          /report.shared/,
        );
    });

    it('refuses an event name that does not follow the rules of POST /v1/events', async () => {
      await expect(t.app.get(AnalyticsService).track(randomUUID(), 'Project Created')).rejects.toThrow(
        /does not match/,
      );
    });
  });

  describe('DELETE /v1/me', () => {
    it("removes the user's events and activity and takes them out of every number", async () => {
      now = new Date('2026-10-20T12:00:00.000Z');
      const [leaving, staying] = [user(), user()];
      const history = [-6, -3, 0].map((days) => ({
        name: 'erase.me',
        occurredAt: at(days * DAY_MS - 31 * DAY_MS),
      }));
      for (const caller of [leaving, staying])
        expect((await send(caller, { events: history })).status).toBe(202);
      const query = { from: '2026-10-10', to: '2026-10-25' };
      const [active, events, cohorts] = await Promise.all([
        ask('active-users', query),
        ask('events', query),
        ask('retention', query),
      ]);
      const leavingId = (await userIdOf(leaving))!;

      expect((await t.http().delete('/v1/me').set('authorization', leaving.authorization)).status).toBe(204);
      const after = await Promise.all([
        ask('active-users', query),
        ask('events', query),
        ask('retention', query),
      ]);
      for (const table of ['analytics_events', 'analytics_active_days', 'analytics_users']) {
        const { rows } = await sql.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [
          leavingId,
        ]);
        expect(rows[0].n).toBe(0);
      }
      type Day = { date: string; dau: number; wau: number; mau: number };
      const leavingDays = ['2026-10-14', '2026-10-17', '2026-10-20'];
      const lessOne = (day: Day) => {
        const counted = (window: number) =>
          leavingDays.some((active) => {
            const daysAfter = (Date.parse(day.date) - Date.parse(active)) / DAY_MS;
            return daysAfter >= 0 && daysAfter < window;
          });
        return {
          ...day,
          dau: day.dau - +counted(1),
          wau: day.wau - +counted(7),
          mau: day.mau - +counted(30),
        };
      };
      const strip = ({ date, dau, wau, mau }: Day) => ({ date, dau, wau, mau });
      expect(after[0].body.days.map(strip)).toEqual(active.body.days.map(strip).map(lessOne));
      const erased = (items: { name: string; count: number; users: number }[]) =>
        items.find(({ name }) => name === 'erase.me');
      expect(erased(after[1].body.items)).toMatchObject({
        count: erased(events.body.items)!.count - 3,
        users: erased(events.body.items)!.users - 1,
      });
      const cohortSize = (body: { cohorts: { start: string; size: number }[] }) =>
        body.cohorts.find(({ start }) => start === '2026-10-14')!.size;
      expect(cohortSize(after[2].body)).toBe(cohortSize(cohorts.body) - 1);
    });

    it("never deadlocks with another user's events counted in the same rows", async () => {
      const shardOf = (id: string) => Number.parseInt(id.slice(-2), 16) % 8;
      const known = async (caller: TestCaller) => {
        expect((await t.http().get('/v1/me').set('authorization', caller.authorization)).status).toBe(200);
        return (await userIdOf(caller))!;
      };
      const leaving = user();
      const shard = shardOf(await known(leaving));
      let sender: TestCaller;
      do sender = user();
      while (shardOf(await known(sender)) !== shard);
      const shared = { name: 'counted.together', occurredAt: at(-DAY_MS) };
      expect((await send(leaving, { events: [shared] })).status).toBe(202);
      const waiting = async () =>
        (
          await sql.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE wait_event_type = 'Lock' AND datname = current_database()`,
          )
        ).rows[0]!.n;
      const deadlocks = async () =>
        (
          await sql.query<{ n: number }>(
            `SELECT deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()`,
          )
        ).rows[0]!.n;
      const before = await deadlocks();

      // A third transaction holds one counter row, so that the erasure stops half-way, holding the rows before it.
      const holder = new pg.Client({ connectionString: t.db.url });
      await holder.connect();
      try {
        await holder.query('BEGIN');
        await holder.query(
          `SELECT FROM analytics_event_counts WHERE day = $1 AND name = $2 AND shard = $3 FOR UPDATE`,
          [shared.occurredAt.slice(0, 10), shared.name, shard],
        );
        const erasing = t
          .http()
          .delete('/v1/me')
          .set('authorization', leaving.authorization)
          .then((response) => response.status);
        expect(await until(async () => (await waiting()) === 1)).toBe(true);
        const sending = send(sender, { events: [shared] }).then((response) => response.status);
        expect(await until(async () => (await waiting()) === 2)).toBe(true);
        await holder.query('COMMIT');
        expect([await erasing, await sending]).toEqual([204, 202]);
      } finally {
        await holder.end();
      }
      await sql.query('SELECT pg_stat_force_next_flush()');
      expect(await deadlocks()).toBe(before);
    });
  });

  it('adds what the release before writes to its counter tables to shard 0 of the new ones', async () => {
    const day = '2001-02-03';
    const counts = async () =>
      (
        await sql.query<{ dau: number; wau: number; mau: number; events: number }>(
          `SELECT (SELECT sum(dau)::int FROM analytics_daily_counts WHERE day = $1) AS dau,
                  (SELECT sum(wau)::int FROM analytics_daily_counts WHERE day = $1) AS wau,
                  (SELECT sum(mau)::int FROM analytics_daily_counts WHERE day = $1) AS mau,
                  (SELECT sum(events)::int FROM analytics_event_counts WHERE day = $1 AND name = 'old.release') AS events`,
          [day],
        )
      ).rows[0]!;
    // The statements of the release before, as it runs beside this one during a deployment.
    for (let i = 0; i < 2; i++) {
      await sql.query(
        `INSERT INTO analytics_daily AS t (day, dau, wau, mau) VALUES ($1, 1, 2, 3)
         ON CONFLICT (day) DO UPDATE SET dau = t.dau + excluded.dau, wau = t.wau + excluded.wau, mau = t.mau + excluded.mau`,
        [day],
      );
      await sql.query(
        `INSERT INTO analytics_event_days AS t (day, name, events) VALUES ($1, 'old.release', 5)
         ON CONFLICT (day, name) DO UPDATE SET events = t.events + excluded.events`,
        [day],
      );
    }
    expect(await counts()).toEqual({ dau: 2, wau: 4, mau: 6, events: 10 });
    await sql.query('DELETE FROM analytics_daily WHERE day = $1', [day]);
    await sql.query('DELETE FROM analytics_event_days WHERE day = $1', [day]);
    expect(await counts()).toEqual({ dau: 0, wau: 0, mau: 0, events: 0 });
  });

  describe('partitions', () => {
    const partitions = async () =>
      (
        await sql.query<{ name: string }>(
          `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'analytics_events'::regclass ORDER BY 1`,
        )
      ).rows.map(({ name }) => name);
    // Months counted from the real one, in which the migration made its partitions (the one before to two after):
    // the clock the app is given lies beyond them, so the suite does not depend on the day it runs.
    const thisMonth = new Date();
    const month = (offset: number, day = 1) =>
      new Date(Date.UTC(thisMonth.getUTCFullYear(), thisMonth.getUTCMonth() + offset, day));
    const partitionOf = (offset: number) => {
      const start = month(offset);
      return `analytics_events_p${start.getUTCFullYear()}_${String(start.getUTCMonth() + 1).padStart(2, '0')}`;
    };
    const inDefault = async (offset: number) =>
      (
        await sql.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM analytics_events_default WHERE occurred_at >= $1 AND occurred_at < $2',
          [month(offset), month(offset + 1)],
        )
      ).rows[0]!.n;
    const FUTURE = 7;

    it('creates the months ahead, moving events that went to the default partition; several instances at once', async () => {
      now = month(FUTURE, 15);
      const caller = user();
      expect((await send(caller, { events: [{ name: 'far.future' }] })).status).toBe(202);
      const waiting = await inDefault(FUTURE);
      expect(waiting).toBeGreaterThan(0);

      const maintenance = t.app.get(EventPartitions);
      await Promise.all([maintenance.maintain(), maintenance.maintain()]);
      expect(await partitions()).toEqual(
        expect.arrayContaining([
          'analytics_events_default',
          ...[-1, 0, 1, 2, 3].map((offset) => partitionOf(FUTURE + offset)),
        ]),
      );
      const moved = await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${partitionOf(FUTURE)}`);
      expect({ left: await inDefault(FUTURE), moved: moved.rows[0]!.n }).toEqual({ left: 0, moved: waiting });
      expect((await eventsOf(caller)).map(({ name }) => name)).toContain('far.future');
    });

    it('drops the months that ended more than ANALYTICS_RETENTION_DAYS (400) ago', async () => {
      now = month(FUTURE + 9);
      await t.app.get(EventPartitions).maintain();
      const names = await partitions();
      // 400 days back from the first of a month is the 26th–28th of the month 14 months earlier: the month before
      // that one ended before the cutoff, that one after it.
      expect(names).not.toContain(partitionOf(FUTURE - 6));
      expect(names).toContain(partitionOf(FUTURE - 5));
      expect(names).toContain(partitionOf(FUTURE + 8));
    });

    it("deletes all of a user's events while their month is being moved out of the default partition", async () => {
      const far = FUTURE + 20;
      now = month(far, 15);
      const leaving = user();
      const events = [{ name: 'moved.a' }, { name: 'moved.b' }, { name: 'moved.c' }];
      expect((await send(leaving, { events })).status).toBe(202);
      const userId = await userIdOf(leaving);
      expect(await inDefault(far)).toBeGreaterThanOrEqual(events.length);

      const db = t.app.get(Database);
      const partitions = t.app.get(PartitionsRepository);
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let created = false;
      const maintenance = db.transaction(async () => {
        await partitions.lock();
        await partitions.create(monthStarting(month(far).getUTCFullYear(), month(far).getUTCMonth()));
        created = true;
        await released;
      });
      expect(await until(() => created)).toBe(true);
      const deletion = t
        .http()
        .delete('/v1/me')
        .set('authorization', leaving.authorization)
        .then((r) => r);
      expect(await someoneWaitsForLock(t.db.url)).toBe(true);
      release();
      await maintenance;
      expect((await deletion).status).toBe(204);
      const left = await sql.query('SELECT count(*)::int AS n FROM analytics_events WHERE user_id = $1', [
        userId,
      ]);
      expect(left.rows[0].n).toBe(0);
    });

    it('creates a missing month while events for it keep arriving, dropping old months or not', async () => {
      const callers = [user(), user(), user(), user()];
      const maintainUnderTraffic = async (offset: number) => {
        now = month(offset, 15);
        let sending = true;
        const answers: number[] = [];
        const traffic = callers.map(async (caller) => {
          while (sending) answers.push((await send(caller, { events: [{ name: 'steady' }] })).status);
        });
        try {
          await until(() => answers.length >= callers.length);
          // A maintenance that waited too long for a lock (100 ms, 55P03) fails and is tried again the next hour:
          // here, at once, up to three times, so that a slow machine does not fail the test. A deadlock fails it.
          for (let attempt = 1; ; attempt++) {
            const failed = await t.app
              .get(EventPartitions)
              .maintain()
              .then(
                () => undefined,
                (error: unknown) => error as Error & { code?: string },
              );
            if (!failed) break;
            if (attempt === 3 || failed.code !== '55P03') throw failed;
          }
        } finally {
          sending = false;
          await Promise.all(traffic);
        }
        expect(await partitions()).toContain(partitionOf(offset));
        expect(new Set(answers)).toEqual(new Set([202]));
        expect(await inDefault(offset)).toBe(0);
      };
      // Every earlier month ended more than 400 days before this one.
      await maintainUnderTraffic(FUTURE + 24);
      // None did before this one: it creates months only.
      await maintainUnderTraffic(FUTURE + 30);
    });
  });
});

describe("a user's day in the database's calendar", () => {
  const ZONE = 'America/Edmonton';
  const t = useTestApp({ env: { ANALYTICS_TIMEZONE: ZONE } });

  it("marks the user active on the day PostgreSQL's time-zone rules give, even where Node's differ", async () => {
    const sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    try {
      // Alberta's rules changed in 2026; Node's and PostgreSQL's time-zone data need not agree on the first instant.
      const instants = ['2026-12-01T06:30:00.000Z', '2026-12-01T18:00:00.000Z'];
      let now = new Date(instants[0]!);
      vi.spyOn(t.app.get(Clock), 'now').mockImplementation(() => now);
      const caller = user();
      const userId = (await t.http().get('/v1/me').set('authorization', caller.authorization)).body
        .id as string;
      now = new Date(instants[1]!);
      await t.app.get(AnalyticsService).markActive(userId);

      const days = async (statement: string, values: unknown[]) =>
        (await sql.query<{ day: string }>(statement, values)).rows.map(({ day }) => day);
      expect(
        await days('SELECT day::text FROM analytics_active_days WHERE user_id = $1 ORDER BY 1', [userId]),
      ).toEqual(
        await days(
          'SELECT DISTINCT (instant AT TIME ZONE $2)::date::text AS day FROM unnest($1::timestamptz[]) instant ORDER BY 1',
          [instants, ZONE],
        ),
      );
    } finally {
      await sql.end();
    }
  });
});

describe('a day whose midnight happens twice', () => {
  // The Azores set their clocks back from 01:00 to 00:00 on 2026-10-25: 00:00–00:59 happens twice that day.
  const t = useTestApp({ env: { ANALYTICS_TIMEZONE: 'Atlantic/Azores' } });
  const admin = user({ groups: ['admin'] });

  it('puts an event of its first hour on that day in every answer, as the rollups do', async () => {
    vi.spyOn(t.app.get(Clock), 'now').mockImplementation(() => new Date('2026-10-26T12:00:00.000Z'));
    const caller = user();
    const sent = await t
      .http()
      .post('/v1/events')
      .set('authorization', caller.authorization)
      .send({
        events: [
          { name: 'tour.started', occurredAt: '2026-10-25T00:30:00.000Z' },
          { name: 'tour.finished', occurredAt: '2026-10-25T00:40:00.000Z' },
        ],
      });
    expect(sent.status).toBe(202);
    const ask = (path: string, query: Record<string, string>) =>
      t.http().get(path).query(query).set('authorization', admin.authorization);
    const day = { from: '2026-10-25', to: '2026-10-25' };

    const use = (await ask('/v1/admin/analytics/events', day)).body.items as {
      name: string;
      count: number;
    }[];
    expect(use.map(({ name, count }) => [name, count]).sort()).toEqual([
      ['tour.finished', 1],
      ['tour.started', 1],
    ]);
    const funnel = await ask('/v1/admin/analytics/funnel', { ...day, steps: 'tour.started,tour.finished' });
    expect(funnel.body.steps.map(({ users }: { users: number }) => users)).toEqual([1, 1]);
    const userId = (await t.http().get('/v1/me').set('authorization', caller.authorization)).body
      .id as string;
    const activity = await ask(`/v1/admin/users/${userId}/activity`, day);
    expect(activity.body.events.map(({ name }: { name: string }) => name).sort()).toEqual([
      'tour.finished',
      'tour.started',
    ]);
  });
});

describe('rebuilding the rollups from raw events', () => {
  const t = useTestApp();

  it('gives the rollups that ingestion (one user or many per statement) and erasure kept up to date, late events included', async () => {
    const sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    try {
      let now = new Date();
      vi.spyOn(t.app.get(Clock), 'now').mockImplementation(() => now);
      const { rows: users } = await sql.query<{ id: string }>(
        `INSERT INTO users (id, cognito_sub, username)
         SELECT gen_random_uuid(), gen_random_uuid()::text, 'bulk-' || n FROM generate_series(1, 5) n RETURNING id`,
      );
      const [analytics, activity, db] = [
        t.app.get(AnalyticsService),
        t.app.get(ActivityRepository),
        t.app.get(Database),
      ];
      for (let day = 0; day < 60; day += 1) {
        now = new Date(Date.parse('2026-12-01T08:00:00Z') + day * DAY_MS);
        const writes = users.flatMap(({ id }, index) => {
          if ((day * (index + 3)) % 7 >= 2) return [];
          // Some events arrive days late, before days already recorded for the same name.
          const late = new Date(now.getTime() - ((day * index) % 6) * DAY_MS - index * 3_600_000);
          const events = [
            { id: null, name: 'bulk', occurredAt: late.toISOString(), properties: null },
            { id: null, name: index % 2 ? 'other' : 'bulk', occurredAt: now.toISOString(), properties: null },
          ];
          return [{ userId: id, events, activeAt: index === 2 ? [now] : [] }];
        });
        if (day % 2 === 0) {
          for (const { userId, events } of writes) await analytics.record({ userId, groups: [] }, events);
        } else if (writes.length > 0) {
          await db.transaction(async () => {
            await activity.lockUsers(writes.map(({ userId }) => userId).reverse());
            await activity.record(writes, { timeZone: 'UTC', duplicatesSince: new Date(0) });
          });
        }
      }
      const tables = [
        // Shards summed: the rebuild puts every count in shard 0.
        `SELECT day::text, sum(dau)::int, sum(wau)::int, sum(mau)::int FROM analytics_daily_counts GROUP BY day
         HAVING sum(dau + wau + mau) > 0 ORDER BY day`,
        'SELECT user_id, day::text FROM analytics_active_days ORDER BY 1, 2',
        'SELECT user_id, first_day::text FROM analytics_users ORDER BY 1',
        `SELECT day::text, name, sum(events)::int FROM analytics_event_counts GROUP BY 1, 2 HAVING sum(events) <> 0
         ORDER BY 1, 2`,
        'SELECT user_id, name, day::text, events FROM analytics_user_event_days ORDER BY 1, 2, 3',
        `SELECT day::text, name, previous_day::text, users FROM analytics_name_days WHERE users <> 0
         ORDER BY 1, 2, 3`,
      ];
      const snapshot = async () => {
        const rows: unknown[][] = [];
        for (const query of tables) rows.push((await sql.query(query)).rows);
        return rows;
      };
      const rebuilt = async () => {
        await t.app.get(RollupsRepository).rebuildFromEvents('UTC');
        return snapshot();
      };
      const kept = await snapshot();
      expect(kept[0]!.length).toBeGreaterThan(30);
      expect((kept[5] as { previous_day: string }[]).some((row) => row.previous_day !== '-infinity')).toBe(
        true,
      );
      expect(await rebuilt()).toEqual(kept);

      await analytics.eraseUser(users[1]!.id);
      await sql.query('DELETE FROM users WHERE id = $1', [users[1]!.id]);
      const afterErasure = await snapshot();
      expect(afterErasure[4]).not.toEqual(kept[4]);
      expect(await rebuilt()).toEqual(afterErasure);
    } finally {
      await sql.end();
    }
  });
});

describe('the vocabulary of event names (ANALYTICS_MAX_EVENT_NAMES)', () => {
  const t = useTestApp({ env: { ANALYTICS_MAX_EVENT_NAMES: '3' } });
  const send = (caller: TestCaller, names: string[]) =>
    t
      .http()
      .post('/v1/events')
      .set('authorization', caller.authorization)
      .send({ events: names.map((name) => ({ name })) });
  const stored = async () => {
    const sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    try {
      const { rows } = await sql.query<{ name: string }>(
        "SELECT name FROM analytics_events WHERE name <> 'user.signed_up' ORDER BY name",
      );
      return rows.map(({ name }) => name);
    } finally {
      await sql.end();
    }
  };

  it('takes new names while they fit, refuses a batch whose new names do not (422, each named), and stores nothing of it', async () => {
    const caller = user();
    await send(caller, ['a.one', 'a.two', 'a.one']).expect(202);
    const refused = await send(caller, ['a.one', 'order.1001', 'a.two', 'order.1002']);
    expect(refused.status).toBe(422);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body.detail).toContain('ANALYTICS_MAX_EVENT_NAMES');
    expect(refused.body.errors).toEqual([
      { pointer: '/events/1/name', detail: 'order.1001 is a new event name, and there is no room for it.' },
      { pointer: '/events/3/name', detail: 'order.1002 is a new event name, and there is no room for it.' },
    ]);
    expect(await stored()).toEqual(['a.one', 'a.one', 'a.two']);

    // One more fits; names in use are always taken, from anyone; server events (`user.signed_up`) do not count.
    await send(caller, ['a.two', 'a.three']).expect(202);
    await send(user(), ['a.three', 'a.one']).expect(202);
    expect((await send(user(), ['a.four'])).status).toBe(422);
  });

  it('admits one batch at a time: concurrent batches of new names share the room left, with no deadlock', async () => {
    const names = t.app.get(EventNamesRepository);
    const count = async () => {
      const sql = new pg.Client({ connectionString: t.db.url });
      await sql.connect();
      try {
        return (await sql.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics_event_names'))
          .rows[0]!.n;
      } finally {
        await sql.end();
      }
    };
    // Rounds, as concurrent statements overlap only now and then.
    for (let round = 0; round < 5; round++) {
      const before = await count();
      const batches = Array.from({ length: 10 }, (_, i) => [0, 1, 2].map((j) => `room.${round}.${i}.${j}`));
      const admitted = await Promise.all(batches.map((batch) => names.admit(batch, before + 3)));
      expect(await count()).toBe(before + 3);
      expect(admitted.filter((batch) => batch.length === 3)).toHaveLength(1);
    }

    // Overlapping new names in different orders: inserted side by side, they would wait on each other.
    const overlapping = Array.from({ length: 10 }, (_, i) =>
      i % 2 ? ['o.1', 'o.2', 'o.3'] : ['o.3', 'o.2', 'o.1'],
    );
    const all = await Promise.all(overlapping.map((batch) => names.admit(batch, 100_000)));
    expect(all.every((batch) => batch.length === 3)).toBe(true);
  });
});
