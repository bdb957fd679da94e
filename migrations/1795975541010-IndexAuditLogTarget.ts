import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GET /v1/admin/audit?target=<id> (a task's history): the target's entries, newest first, from an index like those of
 * the actor and action filters. Written by hand: audit_log has no entity. Not CONCURRENTLY, which cannot run in the
 * migration's transaction: the log holds operator actions only, so building the index blocks its writes briefly.
 */
export class IndexAuditLogTarget1795975541010 implements MigrationInterface {
  name = 'IndexAuditLogTarget1795975541010';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "ix_audit_log_target_id_id" ON "audit_log" ("target_id", "id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_audit_log_target_id_id"`);
  }
}
