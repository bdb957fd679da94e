import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A decided project.review task finds its review by `task_id`, which had no index: each decision scanned every review.
 * CONCURRENTLY, so reviews are written meanwhile, which cannot run in a transaction. A build interrupted part-way
 * leaves an invalid index behind, which the next run drops and builds again.
 */
export class IndexProjectReviewsTask1796031000000 implements MigrationInterface {
  name = 'IndexProjectReviewsTask1796031000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    const [index] = (await queryRunner.query(
      `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('ix_project_reviews_task_id')`,
    )) as { valid: boolean }[];
    if (index?.valid === false)
      await queryRunner.query(`DROP INDEX CONCURRENTLY "ix_project_reviews_task_id"`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "ix_project_reviews_task_id" ON "project_reviews" ("task_id")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "ix_project_reviews_task_id"`);
  }
}
