/**
 * The events of each user-day of a {@link Population} as COPY text rows of
 * `analytics_events (user_id, occurred_at, name, id, properties, received_at)`: a user's first day opens the funnel,
 * later days may take its next step first, the rest are everyday events a minute or so apart.
 */
import { EventCatalog, FUNNEL, SIGNED_UP } from './catalog.js';
import { DAY_MS, meanGapMs, sessionStart, type Population } from './population.js';
import { uuidV4, type Random } from './random.js';

export const EVENT_COLUMNS = 'user_id, occurred_at, name, id, properties, received_at';

const SIGNUP_COMPLETION = 0.85;
const PROJECT_ON_FIRST_DAY = 0.5;
/** Chance that a later active day starts with the funnel step the user is at (index in FUNNEL). */
const STEP_ON_LATER_DAY = [0, 0.1, 0.3, 0.08];
/** Share of events sent without an id (old clients). */
const WITHOUT_ID = 0.05;
/** Clients send in batches: an event is received a few seconds after it occurred. */
const MEAN_DELIVERY_MS = 3_000;
/** Rows are written into buffers of this size, off the JavaScript heap: a day's rows would burden its collector. */
const CHUNK_BYTES = 1 << 20;
/** Longer than any row: a user id, two instants, a name, an id and the largest properties. */
const MAX_ROW_BYTES = 1024;
const NULL = '\\N';

export class EventRows {
  private readonly catalog: EventCatalog;
  /** Per user: the index in FUNNEL of the step they may take next; 0 until their first day. */
  private readonly funnelStep: Uint8Array;
  private buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  private length = 0;
  /** Full buffers not yet handed out. */
  private readonly ready: Buffer[] = [];
  private time = 0;

  constructor(
    private readonly population: Population,
    private readonly end: number,
    private readonly random: Random,
  ) {
    this.catalog = new EventCatalog(random);
    this.funnelStep = new Uint8Array(population.userIds.length);
  }

  /** The day's rows, for COPY … FROM STDIN, in chunks of about a megabyte. */
  *day(day: number): Generator<Buffer> {
    const { activeUser, activeEvents, dayOffsets, start } = this.population;
    for (let slot = dayOffsets[day]!; slot < dayOffsets[day + 1]!; slot++) {
      this.userDay(activeUser[slot]!, start + day * DAY_MS, activeEvents[slot]!);
      yield* this.ready.splice(0);
    }
    if (this.length > 0) yield this.take();
  }

  private userDay(user: number, dayStart: number, count: number): void {
    const random = this.random;
    const userId = this.population.userIds[user]!;
    const gap = meanGapMs(count);
    let written = 0;
    if (this.funnelStep[user] === 0) {
      this.time = this.population.signedUpAt[user]!;
      this.write(userId, FUNNEL[0], 0);
      this.write(userId, SIGNED_UP, 1_000 + random.below(2_000), false);
      written = 2;
      this.funnelStep[user] = 1;
      if (random.chance(SIGNUP_COMPLETION)) {
        this.write(userId, FUNNEL[1], random.exponential(90_000));
        this.funnelStep[user] = 2;
        written++;
        if (random.chance(PROJECT_ON_FIRST_DAY)) {
          this.write(userId, FUNNEL[2], random.exponential(600_000));
          this.funnelStep[user] = 3;
          written++;
        }
      }
    } else {
      this.time = sessionStart(dayStart, count, this.end, random);
      const step = this.funnelStep[user]!;
      if (step < FUNNEL.length && random.chance(STEP_ON_LATER_DAY[step]!)) {
        this.write(userId, FUNNEL[step]!, 0);
        this.funnelStep[user] = step + 1;
        written = 1;
      }
    }
    for (; written < count; written++) {
      this.write(userId, this.catalog.everydayName(random), random.exponential(gap));
    }
  }

  /** A row `afterMs` after the previous one of the user-day, never later than the end of the period. */
  private write(userId: string, name: string, afterMs: number, sentByClient = true): void {
    const random = this.random;
    this.time = Math.min(this.time + afterMs, this.end - 1);
    const id = sentByClient && !random.chance(WITHOUT_ID) ? uuidV4(random) : NULL;
    const properties = (sentByClient && this.catalog.propertiesJson(name, random)) || NULL;
    const received = Math.min(this.time + random.exponential(MEAN_DELIVERY_MS), this.end);
    if (this.length > CHUNK_BYTES - MAX_ROW_BYTES) this.ready.push(this.take());
    const row = `${userId}\t${iso(this.time)}\t${name}\t${id}\t${properties}\t${iso(received)}\n`;
    this.length += this.buffer.write(row, this.length, 'latin1');
  }

  private take(): Buffer {
    const full = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    this.length = 0;
    return full;
  }
}

const TWO_DIGITS = Array.from({ length: 60 }, (_, n) => String(n).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
let hourStart = NaN;
let hourPrefix = '';

/** `toISOString` with the hour's `YYYY-MM-DDTHH:` cached: a seed formats two instants per event. */
function iso(ms: number): string {
  const inHour = ms - hourStart;
  if (!(inHour >= 0 && inHour < 3_600_000)) {
    hourStart = ms - (ms % 3_600_000);
    hourPrefix = new Date(hourStart).toISOString().slice(0, 14);
    return iso(ms);
  }
  const millis = Math.floor(inHour);
  const minutes = Math.floor(millis / 60_000);
  const seconds = Math.floor((millis % 60_000) / 1000);
  return `${hourPrefix}${TWO_DIGITS[minutes]}:${TWO_DIGITS[seconds]}.${THREE_DIGITS[millis % 1000]}Z`;
}
