import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The event names clients have sent: the vocabulary that ANALYTICS_MAX_EVENT_NAMES bounds, so that the rollups, which
 * hold a row per name and day, stay small. Filled with every name counted so far.
 */
export class CreateAnalyticsEventNames1796500000000 implements MigrationInterface {
  name = 'CreateAnalyticsEventNames1796500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "analytics_event_names" ("name" character varying(64) PRIMARY KEY, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now())`,
    );
    await queryRunner.query(
      `INSERT INTO "analytics_event_names" ("name") SELECT DISTINCT "name" FROM "analytics_event_counts"`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "analytics_event_names"`);
  }
}
