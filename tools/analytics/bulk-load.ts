import pg from 'pg';
import type { DatabaseConfig } from '../../src/config/config.js';
import { copyRows } from './copy.js';
import { EVENT_COLUMNS, EventRows } from './event-rows.js';
import type { Population } from './population.js';
import type { Random } from './random.js';

/** cognito_sub of the seeded users: `seed-events:<n>`, never a real Cognito sub. */
export const SEEDED_SUB_PREFIX = 'seed-events:';
/**
 * Days copied at once, each on its own connection: the server's work on a row (its two index entries) costs
 * several times what making the row does here, so two server processes keep both cores busy.
 */
const CONNECTIONS = 2;

/** Writes a {@link Population} by COPY: its users, then its events day by day, in time order. */
export class BulkLoader {
  private constructor(private readonly clients: pg.Client[]) {}

  static async open(config: DatabaseConfig): Promise<BulkLoader> {
    const clients: pg.Client[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i++) {
        const client = new pg.Client({ connectionString: config.url, ssl: config.ssl });
        clients.push(client);
        await client.connect();
        // Commits need not wait for the disk: a crash loses the last moments of a seed, which is run again anyway.
        await client.query('SET synchronous_commit = off');
      }
      return new BulkLoader(clients);
    } catch (error) {
      await Promise.all(clients.map((client) => client.end()));
      throw error;
    }
  }

  async users({ userIds, signedUpAt }: Population, subPrefix: string): Promise<number> {
    function* rows() {
      for (let user = 0; user < userIds.length; user++) {
        const at = new Date(signedUpAt[user]!).toISOString();
        yield `${userIds[user]}\t${subPrefix}${user + 1}\tseed-user-${user + 1}\t${at}\t${at}\n`;
      }
    }
    const statement = 'COPY users (id, cognito_sub, username, created_at, updated_at) FROM STDIN';
    return copyRows(this.clients[0]!, statement, rows());
  }

  /**
   * Copies the events of each day, days in order; while the server stores a day, the next one is made. Calls
   * `progress` with the events copied so far after each day.
   */
  async events(
    population: Population,
    end: number,
    random: Random,
    progress: (copied: number, day: number) => void,
  ): Promise<number> {
    const rows = new EventRows(population, end, random);
    const statement = `COPY analytics_events (${EVENT_COLUMNS}) FROM STDIN`;
    const copying: Promise<number>[] = [];
    let copied = 0;
    try {
      for (let day = 0; day < population.days; day++) {
        const text = [...rows.day(day)];
        const slot = day % this.clients.length;
        copied += (await copying[slot]) ?? 0;
        copying[slot] = copyRows(this.clients[slot]!, statement, text);
        copying[slot].catch(() => undefined); // awaited below
        progress(copied, day);
      }
    } catch (error) {
      await Promise.allSettled(copying.filter(Boolean));
      throw error;
    }
    for (const pending of copying) copied += (await pending) ?? 0;
    return copied;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.end()));
  }
}
