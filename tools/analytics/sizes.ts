import { Database, raw, sql } from '../../src/database/database.js';

export interface TableSize {
  table: string;
  rows: number;
  /** Heap, TOAST and their maps. */
  tableBytes: number;
  indexBytes: number;
  /** Per index, in bytes (for a partitioned index, its partitions added up). */
  indexes: Record<string, number>;
}

/** Every table of src/analytics, the raw events first. */
export const ANALYTICS_TABLES = [
  'analytics_events',
  'analytics_user_event_days',
  'analytics_name_days',
  'analytics_event_counts',
  'analytics_active_days',
  'analytics_users',
  'analytics_daily_counts',
];

/** What each analytics table takes on disk, partitions added up (PostgreSQL gives a partitioned table no size). */
export async function analyticsSizes(db: Database): Promise<TableSize[]> {
  const sizes: TableSize[] = [];
  for (const table of ANALYTICS_TABLES) {
    const counted = await db.row<{ rows: number }>(sql`SELECT count(*)::float8 AS rows FROM ${raw(table)}`);
    sizes.push({ table, rows: counted!.rows, ...(await onDisk(db, table)) });
  }
  return sizes;
}

async function onDisk(db: Database, table: string) {
  // A partitioned table has no storage of its own, and a plain one is its own (only) partition.
  const [total] = await db.rows<{ tableBytes: number; indexBytes: number }>(sql`
    SELECT sum(pg_table_size(relid))::float8 AS "tableBytes", sum(pg_indexes_size(relid))::float8 AS "indexBytes"
    FROM (SELECT relid FROM pg_partition_tree(${table}::regclass) UNION SELECT ${table}::regclass) AS tree`);
  const indexes = await db.rows<{ name: string; bytes: number }>(sql`
    SELECT i.indexrelid::regclass::text AS name,
           (SELECT sum(pg_relation_size(relid))
            FROM (SELECT relid FROM pg_partition_tree(i.indexrelid) UNION SELECT i.indexrelid) AS tree)::float8 AS bytes
    FROM pg_index i WHERE i.indrelid = ${table}::regclass ORDER BY 1`);
  return { ...total!, indexes: Object.fromEntries(indexes.map(({ name, bytes }) => [name, bytes])) };
}
