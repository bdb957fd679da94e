import { Inject, Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Database } from '../database/database.js';
import { Clock } from '../utils/clock.js';
import { KeyedBatches } from '../utils/keyed-batches.js';
import { ActivityRepository, type EventRow } from './activity.repository.js';
import { dayIn } from './days.js';
import { EVENT_NAME, OCCURRED_AT_WINDOW_MS } from './event-batch.js';

/**
 * An event id is recognised as a duplicate when the first copy occurred within this long: a little more than how far
 * back `occurredAt` may go, so that a retry that repeats `occurredAt` is always recognised.
 */
const DUPLICATES_WINDOW_MS = OCCURRED_AT_WINDOW_MS.past + 86_400_000;

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
    private readonly clock: Clock,
    @InjectPinoLogger(AnalyticsService.name) private readonly logger: PinoLogger,
  ) {}

  /** Stores a validated batch (all or nothing); events whose id the user sent before are counted, not stored. */
  async record(userId: string, events: EventRow[]): Promise<{ accepted: number; duplicates: number }> {
    const unique = new Map<string, EventRow>();
    const anonymous: EventRow[] = [];
    for (const event of events) {
      if (event.id === null) anonymous.push(event);
      else if (!unique.has(event.id)) unique.set(event.id, event);
    }
    const { stored: accepted } = await this.write(userId, [...unique.values(), ...anonymous]);
    return { accepted, duplicates: events.length - accepted };
  }

  /**
   * Records a server-side event (`name` as in POST /v1/events). Inside a transaction it is stored once that commits,
   * never if it rolls back; either way together with the user's other events of the moment (one write at a time per
   * user: each holds the user's lock). It never fails: a write that fails is logged.
   */
  async track(userId: string, name: string, properties: Record<string, unknown> = {}): Promise<void> {
    if (!EVENT_NAME.test(name))
      throw new Error(`analytics event name ${name} does not match ${EVENT_NAME.source}`);
    const event = { id: null, name, occurredAt: this.clock.now().toISOString(), properties };
    await this.db.afterCommit(() => this.tracked.add(userId, event));
  }

  private readonly tracked = new KeyedBatches<EventRow>((userId, events) =>
    this.write(userId, events).then(
      () => undefined,
      (error: unknown) => this.logger.warn({ err: error, userId }, 'cannot record server-side events'),
    ),
  );

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
    const writing = this.write(userId, [], now).then(
      // Remembered only when PostgreSQL, which stored the day, agrees with Node on what day it is.
      ({ activeDay }) =>
        void (activeDay === today ? this.activeToday.set(key, true) : this.activeToday.delete(key)),
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
      await this.activity.lockUser(userId);
      await this.activity.forget(userId);
    });
  }

  private write(
    userId: string,
    events: EventRow[],
    activeAt?: Date,
  ): Promise<{ stored: number; activeDay: string | null }> {
    return this.db.transaction(async () => {
      await this.activity.lockUser(userId);
      return this.activity.record(userId, events, {
        timeZone: this.config.analytics.timeZone,
        duplicatesSince: new Date(this.clock.now().getTime() - DUPLICATES_WINDOW_MS),
        activeAt,
      });
    });
  }
}
