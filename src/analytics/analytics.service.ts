import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { LRUCache } from 'lru-cache';
import { isSynthetic, type AuthenticatedUser } from '../auth/principal.js';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Database } from '../database/database.js';
import { MissingReference } from '../database/postgres-errors.js';
import { jsonProblem } from '../http/json-body.js';
import { Clock } from '../utils/clock.js';
import { GroupCommit } from '../utils/group-commit.js';
import {
  ActivityRepository,
  type ActivityWrite,
  type EventRow,
  type Recorded,
} from './activity.repository.js';
import { dayIn } from './days.js';
import { EVENT_NAME, OCCURRED_AT_WINDOW_MS, propertiesProblem } from './event-batch.js';
import { EventNames } from './event-names.js';
import { PartitionsRepository } from './partitions.repository.js';

/**
 * An event id is recognised as a duplicate when the first copy occurred within this long: a little more than how far
 * back `occurredAt` may go, so that a retry that repeats `occurredAt` is always recognised.
 */
const DUPLICATES_WINDOW_MS = OCCURRED_AT_WINDOW_MS.past + 86_400_000;
/** Calls (so users) per shared write: bounds how long one statement holds locks, and the locks it holds. */
const MAX_CALLS_PER_WRITE = 250;
/** A user another transaction held when the shared write locked its users. */
const HELD = Symbol('held');

/**
 * What the rest of the app calls to record what users do: `track` for domain events, `markActive` on every signed-in
 * request (written at most once per user and day by this process), `eraseUser` when a user is deleted.
 */
@Injectable()
export class AnalyticsService {
  /** `userId day` pairs this process has recorded (true) or is recording. */
  private readonly activeToday = new LRUCache<string, Promise<void> | true>({ max: 50_000 });

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly db: Database,
    private readonly activity: ActivityRepository,
    private readonly partitions: PartitionsRepository,
    private readonly eventNames: EventNames,
    private readonly clock: Clock,
    @InjectPinoLogger(AnalyticsService.name) private readonly logger: PinoLogger,
  ) {}

  /**
   * Stores a validated batch (all or nothing); events whose id the user sent before are counted, not stored. The
   * synthetic journey's user is answered as any other, and nothing is stored (it is never active), so only an id
   * repeated within one batch is a duplicate of theirs.
   */
  async record(
    caller: Pick<AuthenticatedUser, 'userId' | 'groups'>,
    events: EventRow[],
  ): Promise<{ accepted: number; duplicates: number }> {
    const unique = new Map<string, EventRow>();
    const anonymous: EventRow[] = [];
    for (const event of events) {
      if (event.id === null) anonymous.push(event);
      else if (!unique.has(event.id)) unique.set(event.id, event);
    }
    if (isSynthetic(caller)) {
      const accepted = unique.size + anonymous.length;
      return { accepted, duplicates: events.length - accepted };
    }
    await this.eventNames.admit(events);
    const { userId } = caller;
    const written = await this.write([{ userId, events: [...unique.values(), ...anonymous], activeAt: [] }]);
    // Deleted through another instance: fails as a foreign key would, so the request is retried for the user
    // provisioned again.
    const accepted = written.get(userId)?.stored;
    if (accepted === undefined) throw new MissingReference('users', userId);
    return { accepted, duplicates: events.length - accepted };
  }

  /**
   * Records a server-side event (`name` as in POST /v1/events). Inside a transaction it is stored once that commits,
   * never if it rolls back; either way together with every user's other events and activity of the moment (see
   * {@link writeSoon}). It never fails: a write that fails is logged.
   */
  async track(userId: string, name: string, properties: Record<string, unknown> = {}): Promise<void> {
    if (!EVENT_NAME.test(name))
      throw new Error(`analytics event name ${name} does not match ${EVENT_NAME.source}`);
    const problem = jsonProblem(properties)?.message ?? propertiesProblem(properties);
    if (problem) throw new Error(`analytics event ${name}: ${problem}`);
    const event = { id: null, name, occurredAt: this.clock.now().toISOString(), properties };
    await this.db.afterCommit(() =>
      this.writeSoon({ userId, events: [event], activeAt: [] }).then(
        (written) => {
          if (!written) this.logger.warn({ userId }, 'cannot record server-side events: no such user');
        },
        (error: unknown) => this.logger.warn({ err: error, userId }, 'cannot record server-side events'),
      ),
    );
  }

  /**
   * Server-side events and activity, one write at a time for the whole process: what arrives while a write runs is
   * written by the next, every user's in one statement. One write per user would have each wait on the others for
   * the counters every user adds to (bench/README.md). A user whose lock another transaction holds (a deletion, a
   * batch of POST /v1/events) is left out of it, so that no one else waits for that user, and written by a write of
   * that user's own, which waits for the lock: one at a time per user, with that user's calls of the moment.
   */
  private async writeSoon(write: ActivityWrite): Promise<Recorded | undefined> {
    const written = await this.everyone.add(write);
    return written === HELD ? this.heldUsers.add(write, write.userId) : written;
  }

  private readonly everyone = new GroupCommit<ActivityWrite, Recorded | typeof HELD | undefined>(
    async (items) => {
      const byUser = mergedByUser(items);
      const { written, held } = await this.db.transaction(async () => {
        const users = await this.activity.lockFreeUsers([...byUser.keys()]);
        const writes = users.filter(({ locked }) => locked).map(({ id }) => byUser.get(id)!);
        return {
          written:
            writes.length > 0
              ? await this.activity.record(writes, this.recordOptions())
              : new Map<string, Recorded>(),
          held: new Set(users.filter(({ locked }) => !locked).map(({ id }) => id)),
        };
      });
      return items.map(({ userId }) => (held.has(userId) ? HELD : written.get(userId)));
    },
    MAX_CALLS_PER_WRITE,
  );

  private readonly heldUsers = new GroupCommit<ActivityWrite, Recorded | undefined>(async (items, userId) => {
    const written = await this.write([...mergedByUser(items).values()]);
    return items.map(() => written.get(userId));
  }, MAX_CALLS_PER_WRITE);

  /**
   * Marks the user active today. Called for every signed-in request; returns undefined (nothing to wait for) once
   * this process has recorded the user today, else the write, which concurrent requests of the user share. Never
   * fails: a write that fails is logged and tried again on the next request.
   */
  markActive(userId: string): Promise<void> | undefined {
    const now = this.clock.now();
    const today = dayIn(this.config.analytics.timeZone, now);
    const key = `${userId} ${today}`;
    const known = this.activeToday.get(key);
    if (known !== undefined) return known === true ? undefined : known;
    const writing = this.writeSoon({ userId, events: [], activeAt: [now] }).then(
      // Remembered only when PostgreSQL, which stored the day, agrees with Node on what day it is.
      (written) =>
        void (written?.activeDays.includes(today)
          ? this.activeToday.set(key, true)
          : this.activeToday.delete(key)),
      (error: unknown) => {
        this.activeToday.delete(key);
        this.logger.warn({ err: error }, 'cannot record activity');
      },
    );
    this.activeToday.set(key, writing);
    return writing;
  }

  /**
   * Takes the user out of every number, in the caller's transaction; deleting their `users` row in it then removes
   * their events and active days.
   */
  async eraseUser(userId: string): Promise<void> {
    await this.db.transaction(async () => {
      await this.activity.lockUsers([userId]);
      await this.partitions.holdOff();
      await this.activity.forget(userId);
    });
  }

  /** Each user once in `writes`; waits for their locks. */
  private write(writes: ActivityWrite[]): Promise<Map<string, Recorded>> {
    return this.db.transaction(async () => {
      await this.activity.lockUsers(writes.map(({ userId }) => userId));
      return this.activity.record(writes, this.recordOptions());
    });
  }

  private recordOptions(): { timeZone: string; duplicatesSince: Date } {
    return {
      timeZone: this.config.analytics.timeZone,
      duplicatesSince: new Date(this.clock.now().getTime() - DUPLICATES_WINDOW_MS),
    };
  }
}

/** The calls' writes, one per user: their events and moments together. */
function mergedByUser(items: ActivityWrite[]): Map<string, ActivityWrite> {
  const byUser = new Map<string, ActivityWrite>();
  for (const item of items) {
    const earlier = byUser.get(item.userId);
    byUser.set(
      item.userId,
      earlier
        ? {
            ...item,
            events: [...earlier.events, ...item.events],
            activeAt: [...earlier.activeAt, ...item.activeAt],
          }
        : item,
    );
  }
  return byUser;
}
