import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The counters every user's writes add to (the daily DAU/WAU/MAU summary, events per name and day) get a `shard`:
 * a write adds to its user's shard, readers sum the shards. One row per day (and name) had every concurrent writer
 * wait for the one before to commit. Existing counts stay in shard 0. Written by hand: these tables have no entity.
 */
export class ShardAnalyticsCounters1796024000000 implements MigrationInterface {
  name = 'ShardAnalyticsCounters1796024000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const [table, key] of COUNTERS) {
      await queryRunner.query(`ALTER TABLE "${table}" ADD "shard" smallint NOT NULL DEFAULT 0`);
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "pk_${table}"`);
      await queryRunner.query(
        `ALTER TABLE "${table}" ADD CONSTRAINT "pk_${table}" PRIMARY KEY (${key}, "shard")`,
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const [table, key, columns] of COUNTERS) {
      await queryRunner.query(`
        CREATE TEMPORARY TABLE "merged" AS
        SELECT ${key}, ${columns.map((column) => `sum("${column}")::int AS "${column}"`).join(', ')}
        FROM "${table}" GROUP BY ${key}`);
      await queryRunner.query(`DELETE FROM "${table}"`);
      await queryRunner.query(`ALTER TABLE "${table}" DROP CONSTRAINT "pk_${table}"`);
      await queryRunner.query(`ALTER TABLE "${table}" DROP COLUMN "shard"`);
      await queryRunner.query(`INSERT INTO "${table}" SELECT * FROM "merged"`);
      await queryRunner.query(`DROP TABLE "merged"`);
      await queryRunner.query(`ALTER TABLE "${table}" ADD CONSTRAINT "pk_${table}" PRIMARY KEY (${key})`);
    }
  }
}

const COUNTERS: [table: string, key: string, counts: string[]][] = [
  ['analytics_daily', '"day"', ['dau', 'wau', 'mau']],
  ['analytics_event_days', '"day", "name"', ['events']],
];
