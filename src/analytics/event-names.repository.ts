import { Injectable } from '@nestjs/common';
import { Database, sql } from '../database/database.js';

/** The vocabulary of event names clients may send (analytics_event_names). */
@Injectable()
export class EventNamesRepository {
  constructor(private readonly db: Database) {}

  /**
   * Of `names`, those already known and those added now: all the unknown ones if they fit within `max` names, else
   * none. One admission at a time (the table's lock, which readers pass), so that concurrent batches cannot each take
   * the room that is left; only batches with names their process has not seen come here.
   */
  admit(names: string[], max: number): Promise<string[]> {
    return this.db.transaction(async () => {
      await this.db.rows(sql`LOCK TABLE analytics_event_names IN SHARE ROW EXCLUSIVE MODE`);
      const rows = await this.db.rows<{ name: string }>(sql`
        WITH wanted AS (SELECT DISTINCT unnest(${names}::text[]) AS name),
        fresh AS (
          SELECT name FROM wanted w WHERE NOT EXISTS (SELECT FROM analytics_event_names n WHERE n.name = w.name)
        ),
        added AS (
          INSERT INTO analytics_event_names (name)
          SELECT name FROM fresh
          WHERE (SELECT count(*) FROM analytics_event_names) + (SELECT count(*) FROM fresh) <= ${max}
          RETURNING name
        )
        (SELECT name FROM wanted EXCEPT SELECT name FROM fresh) UNION ALL SELECT name FROM added`);
      return rows.map(({ name }) => name);
    });
  }
}
