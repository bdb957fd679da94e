/**
 * TypeORM's schema builder matches a check constraint by its name and an index by its name and column set, so an
 * entity that changes a check's expression, or an index's column order or `WHERE`, leaves `db:check` satisfied while
 * the migrated database enforces the old rule. Comparing what PostgreSQL prints for each, under the same name, in a
 * migrated database and in one synchronized from the entities, finds that drift.
 */

/** Runs a query with positional parameters and returns its rows. */
export type Query = (text: string, parameters: unknown[]) => Promise<{ name: string; definition: string }[]>;

/** `table.name` → definition, for every constraint and index of these tables. */
export async function definitionsOf(query: Query, tables: string[]): Promise<Map<string, string>> {
  const rows = await query(
    `SELECT t.relname || '.' || c.conname AS name, pg_get_constraintdef(c.oid) AS definition
     FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
     WHERE t.relnamespace = 'public'::regnamespace AND t.relname = ANY($1)
     UNION ALL
     SELECT tablename || '.' || indexname, indexdef FROM pg_indexes
     WHERE schemaname = 'public' AND tablename = ANY($1)`,
    [tables],
  );
  return new Map(rows.map((row) => [row.name, row.definition]));
}

/**
 * One line for each constraint or index that both databases have under one name but define differently. What only one
 * has is the schema builder's to report (or, in the migrated database, written by hand where no entity can say it).
 */
export function differingDefinitions(
  migrated: Map<string, string>,
  fromEntities: Map<string, string>,
): string[] {
  return [...fromEntities]
    .filter(([name, definition]) => migrated.has(name) && migrated.get(name) !== definition)
    .map(
      ([name, definition]) =>
        `${name}: the entities say ${definition}; the migrations, ${migrated.get(name)}`,
    );
}
