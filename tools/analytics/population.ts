/**
 * Who is active when: users signing up over the period at a growing pace, each active on a heavy-tailed number of
 * days (most a few, some nearly every day) with a heavy-tailed number of events on each, adding up to exactly the
 * number of events asked for.
 */
import { Random, uuidV7 } from './random.js';

export const DAY_MS = 86_400_000;
/** Events on a user's first day before anything else: the funnel's first steps. */
export const FIRST_DAY_MIN_EVENTS = 4;
/** Share of the daily sign-ups at the start of the period that the average day sees; they rise linearly. */
const GROWTH_START = 0.3;
/** Pareto exponent of the number of active days: lower gives more very active users. */
const ACTIVE_DAYS_ALPHA = 0.8;
/** Later active days cluster after sign-up: an offset is drawn as (available days) × u^this. */
const EARLY_BIAS = 1.6;
const WEEKEND_ACCEPTANCE = 0.6;

export interface Population {
  /** The first instant of the period, in ms; day d runs from start + d × DAY_MS. */
  start: number;
  days: number;
  userIds: string[];
  /** When each user signed up: the first event of their first day. */
  signedUpAt: Float64Array;
  /** The user-days, grouped by day (those of day d from dayOffsets[d] to dayOffsets[d + 1]). */
  activeUser: Int32Array;
  activeEvents: Int32Array;
  dayOffsets: Int32Array;
}

export function planPopulation(options: {
  users: number;
  events: number;
  days: number;
  end: number;
  random: Random;
}): Population {
  const { users, events, days, end, random } = options;
  if (events < users * FIRST_DAY_MIN_EVENTS) {
    throw new RangeError(
      `--events must be at least ${FIRST_DAY_MIN_EVENTS} × --users (${users * FIRST_DAY_MIN_EVENTS})`,
    );
  }
  const start = end - days * DAY_MS;
  const signupDay = signupDays(users, days, random);
  const activeDays = activeDayCounts(signupDay, days, events, random);
  const weekdayOf = (day: number) => new Date(start + day * DAY_MS).getUTCDay();

  const userOf: number[] = [];
  const dayOf: number[] = [];
  const weight: number[] = [];
  const taken = new Uint8Array(days);
  for (let user = 0; user < users; user++) {
    const intensity = random.logNormal(0.9);
    for (const day of chooseDays(signupDay[user]!, activeDays[user]!, days, taken, weekdayOf, random)) {
      userOf.push(user);
      dayOf.push(day);
      weight.push(intensity * random.logNormal(0.6));
    }
  }
  const counts = allocate(events, userOf, dayOf, signupDay, weight, random);

  // Counting sort by day, keeping users in order within a day.
  const dayOffsets = new Int32Array(days + 1);
  for (const day of dayOf) dayOffsets[day + 1]!++;
  for (let day = 0; day < days; day++) dayOffsets[day + 1]! += dayOffsets[day]!;
  const next = dayOffsets.slice(0, days);
  const activeUser = new Int32Array(userOf.length);
  const activeEvents = new Int32Array(userOf.length);
  const signedUpAt = new Float64Array(users);
  userOf.forEach((user, index) => {
    const slot = next[dayOf[index]!]!++;
    activeUser[slot] = user;
    activeEvents[slot] = counts[index]!;
    if (dayOf[index] === signupDay[user]) {
      signedUpAt[user] = sessionStart(start + signupDay[user]! * DAY_MS, counts[index]!, end, random);
    }
  });
  const userIds = Array.from(signedUpAt, (at) => uuidV7(random, at));
  return { start, days, userIds, signedUpAt, activeUser, activeEvents, dayOffsets };
}

/** Mean time between a user's events on a day with `count` of them: a minute or so, less on very busy days. */
export function meanGapMs(count: number): number {
  return Math.min(75_000, (0.8 * DAY_MS) / count);
}

/** When a day's events start: anywhere that leaves room for them before the day (and the period) ends. */
export function sessionStart(dayStart: number, count: number, end: number, random: Random): number {
  const room = Math.min(dayStart + DAY_MS, end) - dayStart - count * meanGapMs(count);
  return dayStart + random.next() * Math.max(0, room);
}

/** Sign-up days in order, at a pace rising linearly over the period (inverse of F(x) = a·x + (1 − a)·x²). */
function signupDays(users: number, days: number, random: Random): Uint16Array {
  const a = GROWTH_START;
  const fractions = Float64Array.from({ length: users }, () => {
    const u = random.next();
    return (-a + Math.sqrt(a * a + 4 * (1 - a) * u)) / (2 * (1 - a));
  }).sort();
  return Uint16Array.from(fractions, (fraction) => Math.min(days - 1, Math.floor(fraction * days)));
}

/**
 * Days each user is active, their first included: Pareto-distributed up to the days left after signing up; scaled
 * down when the events asked for would not give every active day its minimum.
 */
function activeDayCounts(signupDay: Uint16Array, days: number, events: number, random: Random): Uint16Array {
  const counts = Uint16Array.from(signupDay, (day) =>
    Math.min(days - day, Math.floor(random.pareto(ACTIVE_DAYS_ALPHA))),
  );
  const users = signupDay.length;
  const laterDays = counts.reduce((sum, count) => sum + count - 1, 0);
  // At least half the events beyond the first days' minimum go to days' contents rather than to more days.
  const budget = (events - users * FIRST_DAY_MIN_EVENTS) / 2;
  if (laterDays > budget) {
    const scale = budget / laterDays;
    counts.forEach((count, user) => (counts[user] = 1 + Math.floor((count - 1) * scale + random.next())));
  }
  return counts;
}

/** `count` distinct days from the sign-up day on, the sign-up day first; weekends less likely. */
function chooseDays(
  first: number,
  count: number,
  days: number,
  taken: Uint8Array,
  weekdayOf: (day: number) => number,
  random: Random,
): number[] {
  const available = days - first;
  const chosen = [first];
  if (count >= available) {
    for (let day = first + 1; day < days; day++) chosen.push(day);
    return chosen;
  }
  taken.fill(0, first, days);
  taken[first] = 1;
  for (let attempts = 0; chosen.length < count && attempts < count * 50; attempts++) {
    const day = first + 1 + Math.floor((available - 1) * random.next() ** EARLY_BIAS);
    const weekend = weekdayOf(day) % 6 === 0;
    if (taken[day] || (weekend && !random.chance(WEEKEND_ACCEPTANCE))) continue;
    taken[day] = 1;
    chosen.push(day);
  }
  return chosen;
}

/**
 * Events per user-day: the minimum (the first day's funnel steps, one on any other day), then the rest in
 * proportion to the weights by systematic sampling, so the total is exactly `events`.
 */
function allocate(
  events: number,
  userOf: number[],
  dayOf: number[],
  signupDay: Uint16Array,
  weight: number[],
  random: Random,
): Int32Array {
  const counts = Int32Array.from(userOf, (user, index) =>
    dayOf[index] === signupDay[user] ? FIRST_DAY_MIN_EVENTS : 1,
  );
  const rest = events - counts.reduce((sum, count) => sum + count, 0);
  const total = weight.reduce((sum, w) => sum + w, 0);
  const step = total / rest;
  let position = random.next() * step;
  let cumulative = 0;
  let given = 0;
  for (let index = 0; index < counts.length; index++) {
    cumulative += weight[index]!;
    for (; given < rest && position < cumulative; given++, position += step) counts[index]!++;
  }
  counts[counts.length - 1]! += rest - given; // rounding
  return counts;
}
