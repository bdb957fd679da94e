import { Injectable } from '@nestjs/common';
import { Database, sql } from '../database/database.js';

/** The vocabulary of event names clients may send (analytics_event_names). */
@Injectable()
export class EventNamesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Of `names`, those already known and those added now: all the unknown ones if they fit within `max` names, else
   * none. Another instance may add a name meanwhile, so the vocabulary can end a few names above `max`.
   */
  async admit(names: string[], max: number): Promise<string[]> {
    const rows = await this.db.rows<{ name: string }>(sql`
      WITH wanted AS (SELECT DISTINCT unnest(${names}::text[]) AS name),
      fresh AS (SELECT name FROM wanted w WHERE NOT EXISTS (SELECT FROM analytics_event_names n WHERE n.name = w.name)),
      added AS (
        INSERT INTO analytics_event_names (name)
        SELECT name FROM fresh
        WHERE (SELECT count(*) FROM analytics_event_names) + (SELECT count(*) FROM fresh) <= ${max}
        -- Added by another writer since this statement began: known, so returned too.
        ON CONFLICT (name) DO UPDATE SET name = excluded.name
        RETURNING name
      )
      (SELECT name FROM wanted EXCEPT SELECT name FROM fresh) UNION ALL SELECT name FROM added`);
    return rows.map(({ name }) => name);
  }
}
