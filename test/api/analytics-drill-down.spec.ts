import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/utils/clock.js';
import { useTestApp } from '../support/app.js';
import { user, type TestCaller } from '../support/tokens.js';

/** In St. John's, 2026-11-20 starts at 03:30 UTC (UTC−3:30 in November). */
const NOW = new Date('2026-11-20T12:00:00.000Z');
const BEFORE_MIDNIGHT = '2026-11-20T03:29:59.999Z';
const MIDNIGHT = '2026-11-20T03:30:00.000Z';

/** One event name day by day, and one user's activity: the admin's drill-downs, in a zone that is not UTC. */
describe('analytics drill-downs', () => {
  const t = useTestApp({ env: { ANALYTICS_TIMEZONE: 'America/St_Johns' } });
  let now: Date;
  let admin: TestCaller;
  let alice: TestCaller;
  let bob: TestCaller;
  let aliceId: string;

  const send = async (caller: TestCaller, events: object[]) => {
    const response = await t
      .http()
      .post('/v1/events')
      .set('authorization', caller.authorization)
      .send({ events });
    expect(response.status).toBe(202);
  };
  /** As `caller`, or without a token for null. */
  const as = (caller: TestCaller | null, path: string, query: Record<string, string> = {}) => {
    const request = t.http().get(path).query(query);
    return caller ? request.set('authorization', caller.authorization) : request;
  };
  const idOf = async (caller: TestCaller) => (await as(caller, '/v1/me')).body.id as string;

  beforeAll(async () => {
    now = NOW;
    vi.spyOn(t.app.get(Clock), 'now').mockImplementation(() => now);
    [admin, alice, bob] = [user({ groups: ['admin'] }), user(), user()];
    await send(alice, [
      { name: 'report.exported', occurredAt: BEFORE_MIDNIGHT, properties: { format: 'csv' } },
      { name: 'report.exported', occurredAt: BEFORE_MIDNIGHT },
      { name: 'report.exported', occurredAt: MIDNIGHT, properties: { format: 'pdf' } },
    ]);
    // Bob's earlier day arrives after his later one.
    await send(bob, [{ name: 'report.exported', occurredAt: '2026-11-20T11:00:00.000Z' }]);
    await send(bob, [
      { name: 'report.exported', occurredAt: '2026-11-18T10:00:00.000Z' },
      { name: 'report.viewed', occurredAt: BEFORE_MIDNIGHT },
    ]);
    aliceId = await idOf(alice);
  });

  describe('GET /v1/admin/analytics/events/{name}', () => {
    const ask = (name: string, query: Record<string, string>, caller: TestCaller | null = admin) =>
      as(caller, `/v1/admin/analytics/events/${encodeURIComponent(name)}`, query);

    it('counts events and distinct users per day of the zone, every day of the range, oldest first', async () => {
      const response = await ask('report.exported', { from: '2026-11-17', to: '2026-11-21' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        name: 'report.exported',
        days: [
          { date: '2026-11-17', count: 0, users: 0 },
          { date: '2026-11-18', count: 1, users: 1 },
          { date: '2026-11-19', count: 2, users: 1 },
          { date: '2026-11-20', count: 2, users: 2 },
          { date: '2026-11-21', count: 0, users: 0 },
        ],
      });
    });

    it('adds up to the event use of the same range', async () => {
      const range = { from: '2026-11-17', to: '2026-11-21' };
      const [days, report] = await Promise.all([
        ask('report.exported', range),
        as(admin, '/v1/admin/analytics/events', range),
      ]);
      const total = (days.body.days as { count: number }[]).reduce((sum, day) => sum + day.count, 0);
      expect(report.body.items).toContainEqual(
        expect.objectContaining({ name: 'report.exported', count: total }),
      );
    });

    it('answers zeros, not 404, for a name never sent', async () => {
      const response = await ask('never.sent', { from: '2026-11-19', to: '2026-11-20' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        name: 'never.sent',
        days: [
          { date: '2026-11-19', count: 0, users: 0 },
          { date: '2026-11-20', count: 0, users: 0 },
        ],
      });
    });

    it('accepts a range of 366 days', async () => {
      const response = await ask('report.exported', { from: '2024-01-01', to: '2024-12-31' });
      expect(response.body.days).toHaveLength(366);
    });

    const range = { from: '2026-11-01', to: '2026-11-30' };
    const INVALID: [string, string, Record<string, string>, string][] = [
      ['an upper-case name', 'Report.Exported', range, '/name'],
      ['a name with a space', 'report exported', range, '/name'],
      ['a name of 65 characters', 'a'.repeat(65), range, '/name'],
      ['no from', 'report.exported', { to: range.to }, '/from'],
      ['a date that does not exist', 'report.exported', { ...range, to: '2026-11-31' }, '/to'],
      ['to before from', 'report.exported', { from: range.to, to: range.from }, '/to'],
      ['367 days', 'report.exported', { from: '2025-01-01', to: '2026-01-02' }, '/to'],
      ['an unknown parameter', 'report.exported', { ...range, user: 'x' }, '/user'],
    ];

    it.each(INVALID)('refuses %s with 400 problem+json naming it', async (_case, name, query, pointer) => {
      const response = await ask(name, query);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body.errors).toContainEqual({ pointer, detail: expect.any(String) });
    });

    it('is for admins only', async () => {
      expect((await ask('report.exported', range, user())).status).toBe(403);
      expect((await ask('report.exported', range, null)).status).toBe(401);
    });
  });

  describe('GET /v1/admin/users/{id}/activity', () => {
    const ask = (id: string, query: Record<string, string> = {}, caller: TestCaller | null = admin) =>
      as(caller, `/v1/admin/users/${id}/activity`, query);

    it("gives the user's active days, oldest first, and events, newest first, by the days of the zone", async () => {
      const response = await ask(aliceId, { from: '2026-11-19', to: '2026-11-20' });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        userId: aliceId,
        days: ['2026-11-19', '2026-11-20'],
        events: [
          { name: 'user.signed_up', occurredAt: NOW.toISOString(), properties: {} },
          { name: 'report.exported', occurredAt: MIDNIGHT, properties: { format: 'pdf' } },
          // Two events of the same instant: in either order.
          expect.objectContaining({ name: 'report.exported', occurredAt: BEFORE_MIDNIGHT }),
          expect.objectContaining({ name: 'report.exported', occurredAt: BEFORE_MIDNIGHT }),
        ],
      });
      expect(response.body.events.slice(2).map((event: { properties: unknown }) => event.properties)).toEqual(
        expect.arrayContaining([{ format: 'csv' }, null]),
      );

      const lastDay = await ask(aliceId, { from: '2026-11-20', to: '2026-11-20' });
      expect(lastDay.body.days).toEqual(['2026-11-20']);
      expect(lastDay.body.events.map((event: { occurredAt: string }) => event.occurredAt)).toEqual([
        NOW.toISOString(),
        MIDNIGHT,
      ]);
      expect((await ask(aliceId, { from: '2026-11-01', to: '2026-11-18' })).body).toEqual({
        userId: aliceId,
        days: [],
        events: [],
      });
    });

    it('covers the last 30 days, today included, when no range is given', async () => {
      now = new Date('2026-12-18T12:00:00.000Z');
      try {
        const recent = await ask(aliceId);
        expect(recent.body.days).toEqual(['2026-11-19', '2026-11-20']);
        expect(recent.body.events).toHaveLength(4);
        now = new Date('2026-12-19T12:00:00.000Z');
        expect((await ask(aliceId)).body.days).toEqual(['2026-11-20']);
      } finally {
        now = NOW;
      }
    });

    it('shows the latest 100 events of the range', async () => {
      const busy = user();
      const times = Array.from({ length: 105 }, (_, i) => new Date(NOW.getTime() - i * 60_000).toISOString());
      await send(
        busy,
        times.map((occurredAt) => ({ name: 'busy.clicked', occurredAt })),
      );
      const response = await ask(await idOf(busy), { from: '2026-11-20', to: '2026-11-20' });
      const shown = (response.body.events as { name: string; occurredAt: string }[]).filter(
        ({ name }) => name === 'busy.clicked',
      );
      // user.signed_up, sent at NOW too, is one of the latest 100.
      expect(response.body.events).toHaveLength(100);
      expect(shown.map(({ occurredAt }) => occurredAt)).toEqual(times.slice(0, 99));
    });

    it('records who looked at whose activity in the audit log', async () => {
      await ask(aliceId, { from: '2026-11-19', to: '2026-11-20' });
      const audit = await as(admin, '/v1/admin/audit', { target: aliceId, action: 'user.activity_viewed' });
      expect(audit.body.items[0]).toMatchObject({
        actor: { kind: 'user', id: await idOf(admin) },
        target: { type: 'user', id: aliceId },
        via: 'api',
        details: { from: '2026-11-19', to: '2026-11-20' },
      });
    });

    it('answers 404 problem+json for an unknown user, 400 for a malformed id', async () => {
      const unknown = await ask(randomUUID());
      expect(unknown.status).toBe(404);
      expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((await ask('not-a-uuid')).status).toBe(400);
    });

    const INVALID: [string, Record<string, string>, string][] = [
      ['from without to', { from: '2026-11-01' }, '/to'],
      ['to without from', { to: '2026-11-30' }, '/from'],
      ['a date that does not exist', { from: '2026-02-30', to: '2026-03-01' }, '/from'],
      ['a range to year 9999', { from: '9999-12-01', to: '9999-12-31' }, '/to'],
      ['to before from', { from: '2026-11-30', to: '2026-11-01' }, '/to'],
      ['367 days', { from: '2025-01-01', to: '2026-01-02' }, '/to'],
      ['an unknown parameter', { limit: '5' }, '/limit'],
    ];

    it.each(INVALID)('refuses %s with 400 problem+json naming it', async (_case, query, pointer) => {
      const response = await ask(aliceId, query);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.body.errors).toContainEqual({ pointer, detail: expect.any(String) });
    });

    it('is for admins only', async () => {
      expect((await ask(aliceId, {}, alice)).status).toBe(403);
      expect((await ask(aliceId, {}, null)).status).toBe(401);
    });
  });
});
