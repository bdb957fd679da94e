import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A keyed digest of each task's Step Functions token (the token itself is stored encrypted, with a random IV, so the
 * database cannot compare two): one token makes one task, however often it is sent. Tasks created before have none.
 */
export class AddTaskTokenDigest1796300000000 implements MigrationInterface {
  name = 'AddTaskTokenDigest1796300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD "task_token_digest" bytea`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_tasks_task_token_digest" ON "tasks" ("task_token_digest") WHERE "task_token_digest" IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "uq_tasks_task_token_digest"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "task_token_digest"`);
  }
}
