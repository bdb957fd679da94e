import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Clock } from '../../src/utils/clock.js';
import {
  addDays,
  AnalyticsModel,
  DAY_MS,
  daysFrom,
  HOUR_MS,
  MINUTE_MS,
  Zone,
  type Day,
  type Interval,
  type SentEvent,
} from '../support/analytics-model.js';
import { useTestApp } from '../support/app.js';
import { user } from '../support/tokens.js';

/**
 * Every admin analytics endpoint checked against test/support/analytics-model.ts over random histories: users send
 * batches of events (some retried, some reusing ids, some on the edges of days and of funnel windows) and make other
 * requests, the clock moving with them; then an admin asks every query over random ranges. In zones that change their
 * offset, each history spans a change.
 */

const NAMES = ['app.opened', 'search', 'cart:add', 'checkout-done', 'item_viewed'];
const SIGNED_UP = 'user.signed_up';
const WINDOWS = { PT0M: 0, PT30M: 30 * MINUTE_MS, P1D: DAY_MS, P1DT1H: DAY_MS + HOUR_MS, P7D: 7 * DAY_MS };
type WindowName = keyof typeof WINDOWS;
/** Events of one batch lie at most this far apart, so that the batch and its retry fit the 7 days accepted. */
const BATCH_SPREAD_MS = 5 * DAY_MS;

type Instant = { kind: 'at'; ms: number } | { kind: 'dayStart' | 'dayEnd'; day: number };

type When =
  | Instant
  | {
      kind: 'after';
      /** Which earlier event, counting back from the latest generated. */
      back: number;
      delta: 'same' | 'window' | 'windowPlus1ms' | 'windowMinus1ms' | 'oneMs';
      /** Named after the step of the journey that follows the name of the event it comes after. */
      follows: boolean;
    };

type IdSpec = { kind: 'none' } | { kind: 'fresh' } | { kind: 'copy'; ref: number; upperCase: boolean };

interface EventSpec {
  name: string;
  when: When;
  id: IdSpec;
  /** Sent without occurredAt: it occurs at the clock of its batch, which closes there. */
  implicit: boolean;
  /** The UTC offset occurredAt is written with. */
  offsetMinutes: number;
  properties: boolean;
}

interface BatchSpec {
  size: number;
  /** Clock minus the latest occurredAt of the batch. */
  lagMs: number;
  /** Sends the same batch again this long after. */
  retryAfterMs: number | null;
  reverse: boolean;
}

interface RangeSpec {
  fromDay: number;
  days: number;
  /** null: the journey of the scenario. */
  steps: string[] | null;
  window: WindowName | null;
}

interface Scenario {
  start: Day;
  weeks: number;
  /** A day of the history worth aiming at: the day the zone changes its offset, if it does. */
  edgeDay: number;
  /** The window events on the edge of a window are placed by, and the one of the funnel over the whole history. */
  window: WindowName;
  /** Event names in the order some events follow one another: the steps of most funnels asked. */
  journey: string[];
  users: { events: EventSpec[]; batches: BatchSpec[]; visits: Instant[] }[];
  /** When the admin asks. */
  queryAt: Instant;
  /** Asked besides the whole history. */
  ranges: RangeSpec[];
}

/** POST /v1/events with these events, or GET /v1/me when `events` is null. */
interface UserRequest {
  caller: number;
  clock: number;
  events: SentEvent[] | null;
}

/** The days of 2026–2027 on which the zone changes its offset (none in UTC or Pacific/Kiritimati). */
function offsetChanges(zone: Zone): Day[] {
  return daysFrom('2026-01-01', '2027-12-31').filter(
    (day) => zone.startOf(addDays(day, 1)) - zone.startOf(day) !== DAY_MS,
  );
}

/** Where a history starts, and its day of interest: a few weeks around an offset change if the zone has any. */
function starts(zone: Zone, spanDays: number): fc.Arbitrary<{ start: Day; edgeDay: number }> {
  const changes = offsetChanges(zone);
  if (changes.length === 0) {
    return fc.record({
      start: fc.integer({ min: 0, max: 729 }).map((n) => addDays('2026-01-01', n)),
      edgeDay: fc.nat(spanDays - 1),
    });
  }
  return fc
    .record({ change: fc.constantFrom(...changes), edgeDay: fc.integer({ min: 1, max: spanDays - 2 }) })
    .map(({ change, edgeDay }) => ({ start: addDays(change, -edgeDay), edgeDay }));
}

function scenarios(zone: Zone): fc.Arbitrary<Scenario> {
  return fc.integer({ min: 3, max: 8 }).chain((weeks) => {
    const spanDays = weeks * 7;
    return starts(zone, spanDays).chain(({ start, edgeDay }) => {
      const nearEdge = fc.integer({
        min: Math.max(0, edgeDay - 1),
        max: Math.min(spanDays - 1, edgeDay + 1),
      });
      const instant: fc.Arbitrary<Instant> = fc.oneof(
        {
          weight: 3,
          arbitrary: fc.record({ kind: fc.constant('at' as const), ms: fc.nat(spanDays * DAY_MS - 1) }),
        },
        fc.record({
          kind: fc.constantFrom('dayStart' as const, 'dayEnd' as const),
          day: fc.oneof(fc.nat(spanDays - 1), nearEdge),
        }),
      );
      const after = (follows: fc.Arbitrary<boolean>, back: fc.Arbitrary<number>): fc.Arbitrary<When> =>
        fc.record({
          kind: fc.constant('after' as const),
          back,
          delta: fc.constantFrom('same', 'window', 'windowPlus1ms', 'windowMinus1ms', 'oneMs'),
          follows,
        });
      const event = (when: fc.Arbitrary<When>): fc.Arbitrary<EventSpec> =>
        fc.record({
          name: fc.constantFrom(...NAMES),
          when,
          id: fc.oneof(
            { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
            { weight: 2, arbitrary: fc.constant({ kind: 'fresh' as const }) },
            fc.record({ kind: fc.constant('copy' as const), ref: fc.nat(20), upperCase: fc.boolean() }),
          ),
          implicit: fc.nat(9).map((n) => n === 0),
          offsetMinutes: fc.constantFrom(0, 0, 840, -210, 345),
          properties: fc.boolean(),
        });
      // A journey: an event, then the next steps of the journey one after another.
      const journey = fc
        .tuple(
          event(fc.oneof(instant, after(fc.boolean(), fc.nat(20)))),
          fc.array(event(after(fc.constant(true), fc.constant(0))), { minLength: 1, maxLength: 4 }),
        )
        .map(([first, next]) => [first, ...next]);
      const loose = event(fc.oneof(instant, after(fc.boolean(), fc.nat(20)))).map((spec) => [spec]);
      const batch: fc.Arbitrary<BatchSpec> = fc.record({
        size: fc.integer({ min: 1, max: 6 }),
        lagMs: fc.constantFrom(-5 * MINUTE_MS, 0, 1, 3 * MINUTE_MS, 2 * HOUR_MS, 23 * HOUR_MS),
        retryAfterMs: fc.oneof(
          { weight: 2, arbitrary: fc.constant(null) },
          fc.constantFrom(0, 1, HOUR_MS, 20 * HOUR_MS),
        ),
        reverse: fc.boolean(),
      });
      const range: fc.Arbitrary<RangeSpec> = fc.record({
        fromDay: fc.oneof(
          fc.integer({ min: -10, max: spanDays + 3 }),
          fc.integer({ min: -7, max: 7 }),
          nearEdge,
        ),
        days: fc.oneof(fc.integer({ min: 1, max: spanDays + 14 }), fc.constantFrom(1, 7)),
        steps: fc.oneof(
          { weight: 2, arbitrary: fc.constant(null) },
          fc.shuffledSubarray([...NAMES, SIGNED_UP], { minLength: 2, maxLength: 4 }),
        ),
        window: fc.option(fc.constantFrom(...(Object.keys(WINDOWS) as WindowName[]))),
      });
      return fc.record({
        start: fc.constant(start),
        weeks: fc.constant(weeks),
        edgeDay: fc.constant(edgeDay),
        window: fc.constantFrom(...(Object.keys(WINDOWS) as WindowName[])),
        journey: fc.shuffledSubarray(NAMES, { minLength: 2, maxLength: 4 }),
        users: fc.array(
          fc.record({
            events: fc.array(fc.oneof(loose, journey), { maxLength: 5 }).map((chunks) => chunks.flat()),
            batches: fc.array(batch, { minLength: 1, maxLength: 3 }),
            visits: fc.array(instant, { maxLength: 2 }),
          }),
          { minLength: 2, maxLength: 6 },
        ),
        queryAt: fc.oneof(
          instant,
          fc.record({
            kind: fc.constant('at' as const),
            ms: fc.integer({ min: -DAY_MS, max: (spanDays + 3) * DAY_MS }),
          }),
        ),
        ranges: fc.array(range, { minLength: 1, maxLength: 3 }),
      });
    });
  });
}

function place(zone: Zone, scenario: Scenario, instant: Instant): number {
  if (instant.kind === 'at') return zone.startOf(scenario.start) + instant.ms;
  const day = addDays(scenario.start, instant.day);
  return instant.kind === 'dayStart' ? zone.startOf(day) : zone.endOf(day);
}

/** The instants and names of a user's events, in the order generated. */
function placeEvents(
  zone: Zone,
  scenario: Scenario,
  events: EventSpec[],
): { times: number[]; names: string[] } {
  const windowMs = WINDOWS[scenario.window];
  const deltas = {
    same: 0,
    window: windowMs,
    windowPlus1ms: windowMs + 1,
    windowMinus1ms: windowMs - 1,
    oneMs: 1,
  };
  const times: number[] = [];
  const names: string[] = [];
  for (const { when, name } of events) {
    if (when.kind !== 'after') {
      times.push(place(zone, scenario, when));
      names.push(name);
    } else if (times.length === 0) {
      times.push(zone.startOf(scenario.start));
      names.push(name);
    } else {
      const ref = times.length - 1 - (when.back % times.length);
      // After a name not in the journey comes its first step; after its last step, any name.
      const next = scenario.journey[scenario.journey.indexOf(names[ref]!) + 1];
      times.push(times[ref]! + Math.max(0, deltas[when.delta]));
      names.push(when.follows && next !== undefined ? next : name);
    }
  }
  return { times, names };
}

/** A user's event ids: fresh ones, and copies of earlier ones (some in upper case). */
function eventIds(events: EventSpec[]): (string | undefined)[] {
  // The same for every user: one user's id is never a duplicate of another's.
  const fresh = (index: number) => `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`;
  const ids: (string | undefined)[] = [];
  events.forEach(({ id }, index) => {
    if (id.kind === 'none') ids.push(undefined);
    else if (id.kind === 'fresh' || index === 0) ids.push(fresh(index));
    else {
      const original = ids[id.ref % index];
      if (original === undefined) ids.push(fresh(index));
      else ids.push(id.upperCase ? original.toUpperCase() : original);
    }
  });
  return ids;
}

function writeInstant(instant: number, offsetMinutes: number): string {
  const local = new Date(instant + offsetMinutes * MINUTE_MS).toISOString().slice(0, -1);
  if (offsetMinutes === 0) return `${local}Z`;
  const size = Math.abs(offsetMinutes);
  const offset = `${String(Math.floor(size / 60)).padStart(2, '0')}:${String(size % 60).padStart(2, '0')}`;
  return `${local}${offsetMinutes < 0 ? '-' : '+'}${offset}`;
}

/**
 * Every request of the scenario's users, by clock: each user's events in time order, cut into batches of at most
 * `size` events spread over at most 5 days, each sent with the clock just after its latest event (or up to 5 minutes
 * before it), some sent twice; and the user's visits.
 */
function requests(zone: Zone, scenario: Scenario): UserRequest[] {
  const all: UserRequest[] = [];
  scenario.users.forEach(({ events, batches, visits }, caller) => {
    for (const visit of visits) all.push({ caller, clock: place(zone, scenario, visit), events: null });
    const { times, names } = placeEvents(zone, scenario, events);
    const ids = eventIds(events);
    const order = events.map((_, index) => index).sort((a, b) => times[a]! - times[b]!);
    let sent = 0;
    let pending: number[] = [];
    const send = () => {
      const spec = batches[sent++ % batches.length]!;
      const last = pending.at(-1)!;
      const clock = events[last]!.implicit ? times[last]! : times[last]! + spec.lagMs;
      const body = pending.map((index): SentEvent => {
        const { implicit, offsetMinutes, properties } = events[index]!;
        return {
          ...(ids[index] === undefined ? {} : { id: ids[index] }),
          name: names[index]!,
          ...(implicit ? {} : { occurredAt: writeInstant(times[index]!, offsetMinutes) }),
          ...(properties ? { properties: { plan: 'pro', step: index } } : {}),
        };
      });
      if (spec.reverse) body.reverse();
      all.push({ caller, clock, events: body });
      if (spec.retryAfterMs !== null) all.push({ caller, clock: clock + spec.retryAfterMs, events: body });
      pending = [];
    };
    for (const index of order) {
      if (pending.length > 0 && times[index]! - times[pending[0]!]! > BATCH_SPREAD_MS) send();
      pending.push(index);
      if (events[index]!.implicit || pending.length >= batches[sent % batches.length]!.size) send();
    }
    if (pending.length > 0) send();
  });
  return all.sort((a, b) => a.clock - b.clock);
}

/**
 * The admin queries of the scenario and their expected answers: every endpoint over the whole history and over each
 * range, and the summary.
 */
function queries(scenario: Scenario, model: AnalyticsModel, now: number) {
  const history: RangeSpec = { fromDay: 0, days: scenario.weeks * 7, steps: null, window: scenario.window };
  const perRange = [history, ...scenario.ranges].flatMap(({ fromDay, days, steps: named, window }) => {
    const from = addDays(scenario.start, fromDay);
    const to = addDays(from, days - 1);
    const steps = named ?? scenario.journey;
    const byPeriod = (['day', 'week'] as Interval[]).flatMap((interval) => [
      { path: 'retention', query: { from, to, interval }, expected: model.retention(from, to, interval) },
      { path: 'lifecycle', query: { from, to, interval }, expected: model.lifecycle(from, to, interval) },
    ]);
    return [
      { path: 'active-users', query: { from, to }, expected: model.activeUsers(from, to) },
      { path: 'events', query: { from, to }, expected: model.events(from, to) },
      {
        path: 'events',
        query: { from, to, limit: '2' },
        expected: { items: model.events(from, to).items.slice(0, 2) },
      },
      { path: `events/${steps[0]!}`, query: { from, to }, expected: eventDays(model, steps[0]!, from, to) },
      {
        path: 'funnel',
        query: { steps: steps.join(','), from, to, ...(window ? { window } : {}) },
        expected: model.funnel(steps, from, to, WINDOWS[window ?? 'P7D']),
      },
      ...byPeriod,
    ];
  });
  return [...perRange, { path: 'summary', query: {}, expected: model.summary(now) }];
}

/** One event name day by day: each day's count and users are the event use of that day alone. */
function eventDays(model: AnalyticsModel, name: string, from: Day, to: Day) {
  return {
    name,
    days: daysFrom(from, to).map((date) => {
      const use = model.events(date, date).items.find((item) => item.name === name);
      return { date, count: use?.count ?? 0, users: use?.users ?? 0 };
    }),
  };
}

function describeZone(zoneName: string, numRuns: number) {
  describe(`analytics in ${zoneName}`, () => {
    const t = useTestApp({ env: { ANALYTICS_TIMEZONE: zoneName } });
    const zone = new Zone(zoneName);
    let sql: pg.Client;
    /** Users and every analytics table (some rollups have no foreign key to users, so no cascade empties them). */
    let tables = '';
    let now = 0;

    beforeAll(async () => {
      sql = new pg.Client({ connectionString: t.db.url });
      await sql.connect();
      const { rows } = await sql.query<{ name: string }>(
        `SELECT format('%I', relname) AS name FROM pg_class
         WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition
           AND relname LIKE 'analytics%'`,
      );
      tables = ['users', ...rows.map(({ name }) => name)].join(', ');
      vi.spyOn(t.app.get(Clock), 'now').mockImplementation(() => new Date(now));
    });
    afterAll(async () => {
      vi.restoreAllMocks();
      await sql?.end();
    });

    /** Sends the scenario's history through the API, then checks every admin query against the model. */
    async function check(scenario: Scenario): Promise<void> {
      await sql.query(`TRUNCATE ${tables} CASCADE`);
      const model = new AnalyticsModel(zone);
      const callers = scenario.users.map(() => user());
      for (const request of requests(zone, scenario)) {
        now = request.clock;
        const caller = callers[request.caller]!;
        if (request.events === null) {
          const response = await t.http().get('/v1/me').set('authorization', caller.authorization);
          expect(response.status).toBe(200);
          model.request(caller.sub, now);
        } else {
          const response = await t
            .http()
            .post('/v1/events')
            .set('authorization', caller.authorization)
            .send({ events: request.events });
          const expected = model.post(caller.sub, now, request.events);
          expect({ status: response.status, body: response.body }).toEqual({ status: 202, body: expected });
        }
      }

      const admin = user({ groups: ['admin'] });
      now = place(zone, scenario, scenario.queryAt);
      model.request(admin.sub, now);
      for (const { path, query, expected } of queries(scenario, model, now)) {
        const response = await t
          .http()
          .get(`/v1/admin/analytics/${path}`)
          .query(query)
          .set('authorization', admin.authorization);
        const asked = `${path} ${JSON.stringify(query)}`;
        expect({ asked, status: response.status, body: response.body }).toEqual({
          asked,
          status: 200,
          body: expected,
        });
      }
    }

    it('answers every query like a brute-force count of the same history', async () => {
      await fc.assert(
        fc.asyncProperty(scenarios(zone), (scenario) => check(scenario)),
        // A failure found is reported with its counterexample shrunk as far as the time allowed.
        { numRuns, interruptAfterTimeLimit: 120_000 },
      );
    }, 180_000);
  });
}

describeZone('UTC', 10);
describeZone('Pacific/Kiritimati', 10);
describeZone('America/St_Johns', 10);
describeZone('Europe/Berlin', 10);
