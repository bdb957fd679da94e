import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Product analytics (src/analytics). Written by hand: the tables have no entities (repositories use SQL only), and
 * `analytics_events` is partitioned, which entities cannot express. The app creates each month's partition ahead of
 * time; this migration creates the ones around now so a new database needs nothing else. Events have no foreign key
 * to users (checking it for every row would halve ingestion): the writer checks the user once per batch, and erasing a
 * user deletes their events.
 */
export class CreateAnalytics1795945103931 implements MigrationInterface {
  name = 'CreateAnalytics1795945103931';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "analytics_events" ("user_id" uuid NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, "name" character varying(64) NOT NULL, "id" uuid, "properties" jsonb, "received_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()) PARTITION BY RANGE ("occurred_at")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_analytics_events_name_occurred_at" ON "analytics_events" ("name", "occurred_at") INCLUDE ("user_id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_analytics_events_user_id_id" ON "analytics_events" ("user_id", "id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "analytics_events_default" PARTITION OF "analytics_events" DEFAULT`,
    );
    await queryRunner.query(`
      DO $$
      DECLARE month date := date_trunc('month', now() AT TIME ZONE 'UTC') - interval '1 month';
      BEGIN
        FOR step IN 0..3 LOOP
          EXECUTE format(
            'CREATE TABLE %I PARTITION OF analytics_events FOR VALUES FROM (%L) TO (%L)',
            'analytics_events_p' || to_char(month, 'YYYY_MM'),
            month::text || ' 00:00:00+00',
            (month + interval '1 month')::date::text || ' 00:00:00+00');
          month := month + interval '1 month';
        END LOOP;
      END $$`);

    await queryRunner.query(
      `CREATE TABLE "analytics_active_days" ("user_id" uuid NOT NULL, "day" date NOT NULL, CONSTRAINT "pk_analytics_active_days" PRIMARY KEY ("user_id", "day"), CONSTRAINT "fk_analytics_active_days_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE)`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_analytics_active_days_day" ON "analytics_active_days" ("day", "user_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "analytics_users" ("user_id" uuid NOT NULL, "first_day" date NOT NULL, CONSTRAINT "pk_analytics_users" PRIMARY KEY ("user_id"), CONSTRAINT "fk_analytics_users_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE)`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_analytics_users_first_day" ON "analytics_users" ("first_day", "user_id")`,
    );
    await queryRunner.query(
      `CREATE TABLE "analytics_daily" ("day" date NOT NULL, "dau" integer NOT NULL DEFAULT 0, "wau" integer NOT NULL DEFAULT 0, "mau" integer NOT NULL DEFAULT 0, CONSTRAINT "pk_analytics_daily" PRIMARY KEY ("day"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "analytics_event_days" ("day" date NOT NULL, "name" character varying(64) NOT NULL, "events" integer NOT NULL, CONSTRAINT "pk_analytics_event_days" PRIMARY KEY ("day", "name"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "analytics_user_event_days" ("user_id" uuid NOT NULL, "name" character varying(64) NOT NULL, "day" date NOT NULL, "events" integer NOT NULL, CONSTRAINT "pk_analytics_user_event_days" PRIMARY KEY ("user_id", "name", "day"), CONSTRAINT "fk_analytics_user_event_days_user" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE)`,
    );
    await queryRunner.query(
      `CREATE TABLE "analytics_name_days" ("day" date NOT NULL, "name" character varying(64) NOT NULL, "previous_day" date NOT NULL, "users" integer NOT NULL, CONSTRAINT "pk_analytics_name_days" PRIMARY KEY ("day", "name", "previous_day") INCLUDE ("users"))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "analytics_name_days"`);
    await queryRunner.query(`DROP TABLE "analytics_user_event_days"`);
    await queryRunner.query(`DROP TABLE "analytics_event_days"`);
    await queryRunner.query(`DROP TABLE "analytics_daily"`);
    await queryRunner.query(`DROP TABLE "analytics_users"`);
    await queryRunner.query(`DROP TABLE "analytics_active_days"`);
    await queryRunner.query(`DROP TABLE "analytics_events"`);
  }
}
