import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deleting a user replaces the terms of the operators' searches that found them (`users.listed` entries whose `q`
 * begins their username or email): looked up by the term, lowercased, not by reading every search ever made.
 * CONCURRENTLY, as audit entries are written meanwhile; a build interrupted part-way leaves an invalid index behind,
 * which the next run drops and builds again. Written by hand: audit_log has no entity.
 */
export class IndexAuditSearchTerms1796400000000 implements MigrationInterface {
  name = 'IndexAuditSearchTerms1796400000000';
  transaction = false;

  async up(queryRunner: QueryRunner): Promise<void> {
    const [index] = (await queryRunner.query(
      `SELECT indisvalid AS valid FROM pg_index WHERE indexrelid = to_regclass('ix_audit_log_search_term')`,
    )) as { valid: boolean }[];
    if (index?.valid === false) await queryRunner.query(`DROP INDEX CONCURRENTLY "ix_audit_log_search_term"`);
    await queryRunner.query(
      `CREATE INDEX CONCURRENTLY IF NOT EXISTS "ix_audit_log_search_term" ON "audit_log" (lower(details ->> 'q'))
       WHERE action = 'users.listed'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX CONCURRENTLY IF EXISTS "ix_audit_log_search_term"`);
  }
}
