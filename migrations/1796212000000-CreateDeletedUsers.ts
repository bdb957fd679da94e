import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The Cognito subs of deleted users, and when: a token issued before the deletion, still valid (or refreshed since),
 * must not create the user again. Kept as long as such a token can live.
 */
export class CreateDeletedUsers1796212000000 implements MigrationInterface {
  name = 'CreateDeletedUsers1796212000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "deleted_users" ("cognito_sub" text PRIMARY KEY, "deleted_at" TIMESTAMP WITH TIME ZONE NOT NULL)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "deleted_users"`);
  }
}
