import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The counters every user adds to (the daily DAU/WAU/MAU summary, events per name and day) move to tables with a
 * `shard` in their key: a write adds to its user's shard and readers sum the shards, where one row per day (and
 * name) had every concurrent writer wait for the one before to commit. Written by hand: these tables have no entity.
 *
 * Compatible with the release still running during the deployment: it keeps writing the old tables
 * (`analytics_daily`, `analytics_event_days`, unchanged), and a trigger adds each of its changes to shard 0 of the
 * new ones. A later release drops the old tables and their triggers, once no instance of an earlier one runs.
 */
export class ShardAnalyticsCounters1796024000000 implements MigrationInterface {
  name = 'ShardAnalyticsCounters1796024000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    // Until the migration commits, the running release's writes wait rather than slip between copy and trigger. Both
    // tables at once, in the order in which that release writes them: locking one, then the other, could deadlock.
    await queryRunner.query(
      `LOCK TABLE "analytics_event_days", "analytics_daily" IN SHARE ROW EXCLUSIVE MODE`,
    );
    for (const { from, to, key, counts } of COUNTERS) {
      const all = [...key, ...counts].map((column) => `"${column}"`).join(', ');
      await queryRunner.query(`
        CREATE TABLE "${to}" (${key.map((column) => `"${column}" ${TYPES[column]} NOT NULL`).join(', ')},
          "shard" smallint NOT NULL, ${counts.map((count) => `"${count}" integer NOT NULL DEFAULT 0`).join(', ')},
          CONSTRAINT "pk_${to}" PRIMARY KEY (${key.map((column) => `"${column}"`).join(', ')}, "shard"))`);
      await queryRunner.query(`
        INSERT INTO "${to}" (${all}, "shard") SELECT ${all}, 0 FROM "${from}"`);
      const add = (row: 'NEW' | 'OLD', sign: '' | '-') => `
        INSERT INTO "${to}" AS t (${all}, "shard")
        VALUES (${[...key.map((column) => `${row}."${column}"`), ...counts.map((count) => `${sign}${row}."${count}"`)].join(', ')}, 0)
        ON CONFLICT (${key.map((column) => `"${column}"`).join(', ')}, "shard")
        DO UPDATE SET ${counts.map((count) => `"${count}" = t."${count}" + excluded."${count}"`).join(', ')};`;
      await queryRunner.query(`
        CREATE FUNCTION "${from}_to_shards"() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP <> 'INSERT' THEN ${add('OLD', '-')} END IF;
          IF TG_OP <> 'DELETE' THEN ${add('NEW', '')} END IF;
          RETURN NULL;
        END $$`);
      await queryRunner.query(`
        CREATE TRIGGER "${from}_to_shards" AFTER INSERT OR UPDATE OR DELETE ON "${from}"
        FOR EACH ROW EXECUTE FUNCTION "${from}_to_shards"()`);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const { from, to, key, counts } of COUNTERS) {
      const keys = key.map((column) => `"${column}"`).join(', ');
      await queryRunner.query(`DROP TRIGGER "${from}_to_shards" ON "${from}"`);
      await queryRunner.query(`DROP FUNCTION "${from}_to_shards"()`);
      await queryRunner.query(`DELETE FROM "${from}"`);
      await queryRunner.query(`
        INSERT INTO "${from}" (${keys}, ${counts.map((count) => `"${count}"`).join(', ')})
        SELECT ${keys}, ${counts.map((count) => `sum("${count}")`).join(', ')} FROM "${to}" GROUP BY ${keys}`);
      await queryRunner.query(`DROP TABLE "${to}"`);
    }
  }
}

const TYPES: Record<string, string> = { day: 'date', name: 'character varying(64)' };
const COUNTERS = [
  { from: 'analytics_daily', to: 'analytics_daily_counts', key: ['day'], counts: ['dau', 'wau', 'mau'] },
  { from: 'analytics_event_days', to: 'analytics_event_counts', key: ['day', 'name'], counts: ['events'] },
];
