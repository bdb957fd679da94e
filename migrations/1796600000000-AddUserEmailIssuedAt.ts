import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When the token that brought a user's email was issued: a token older than that (another device's, still valid for
 * up to an hour after an address change) no longer puts the previous address back. Unknown for existing rows.
 */
export class AddUserEmailIssuedAt1796600000000 implements MigrationInterface {
  name = 'AddUserEmailIssuedAt1796600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "email_issued_at" TIMESTAMP WITH TIME ZONE`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email_issued_at"`);
  }
}
