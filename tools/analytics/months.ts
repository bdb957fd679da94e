import {
  monthStarting,
  PartitionsRepository,
  type Month,
} from '../../src/analytics/partitions.repository.js';
import { Database } from '../../src/database/database.js';

/**
 * Creates, with the app's own PartitionsRepository, the monthly partitions of `analytics_events` from the month of
 * `from` to that of `to` that are missing (the migration makes only the months around the day it ran), so that no
 * seeded event lands in the default partition. Returns the names of those it created.
 */
export async function createMonths(db: Database, from: Date, to: Date): Promise<string[]> {
  const partitions = new PartitionsRepository(db);
  return db.transaction(async () => {
    await partitions.lock();
    const existing = new Set((await partitions.months()).map(({ name }) => name));
    const missing: Month[] = [];
    for (
      let month = monthOf(from);
      month.from <= to;
      month = monthStarting(month.from.getUTCFullYear(), month.from.getUTCMonth() + 1)
    ) {
      if (!existing.has(month.name)) missing.push(month);
    }
    for (const month of missing) await partitions.create(month);
    return missing.map(({ name }) => name);
  });
}

const monthOf = (instant: Date) => monthStarting(instant.getUTCFullYear(), instant.getUTCMonth());
