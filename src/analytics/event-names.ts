import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { invalid } from '../http/validation.js';
import type { EventRow } from './activity.repository.js';
import { EventNamesRepository } from './event-names.repository.js';

/**
 * Bounds the event names clients may send (ANALYTICS_MAX_EVENT_NAMES): the rollups hold a row per name and day, so a
 * client that puts ids in names (`page.viewed.<uuid>`) would otherwise make every analytics read slower for good.
 */
@Injectable()
export class EventNames {
  /** Names this process knows to be in the vocabulary: a batch of them needs no query. */
  private readonly known = new Set<string>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: EventNamesRepository,
  ) {}

  /** Adds the batch's new names to the vocabulary, or refuses the batch (422, naming its events) when they do not fit. */
  async admit(events: EventRow[]): Promise<void> {
    const unknown = [...new Set(events.map(({ name }) => name))].filter((name) => !this.known.has(name));
    if (unknown.length === 0) return;
    const max = this.config.analytics.maxEventNames;
    for (const name of await this.repository.admit(unknown, max)) this.known.add(name);
    const refused = events.flatMap(({ name }, index) =>
      this.known.has(name)
        ? []
        : [
            {
              pointer: `/events/${index}/name`,
              detail: `${name} is a new event name, and there is no room for it.`,
            },
          ],
    );
    if (refused.length === 0) return;
    throw invalid(refused, {
      status: 422,
      detail:
        `The app keeps at most ${max} event names (ANALYTICS_MAX_EVENT_NAMES), and the batch's new ones do not fit: ` +
        'send one of the names already in use, with what varies (an id, a page) in its properties. Nothing was stored.',
    });
  }
}
