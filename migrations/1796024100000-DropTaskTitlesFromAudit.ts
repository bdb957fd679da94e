import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `task.created` audit entries no longer copy the task's title, which may hold what the user the task is about wrote:
 * deleting that user erases it from the task, and now from the trail too. Written by hand: audit_log has no entity.
 * What is dropped cannot come back, so `down` does nothing.
 */
export class DropTaskTitlesFromAudit1796024100000 implements MigrationInterface {
  name = 'DropTaskTitlesFromAudit1796024100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `UPDATE "audit_log" SET "details" = "details" - 'title' WHERE "action" = 'task.created' AND "details" ? 'title'`,
    );
  }

  async down(): Promise<void> {}
}
