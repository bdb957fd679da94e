import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsers1795754701348 implements MigrationInterface {
  name = 'CreateUsers1795754701348';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL, "cognito_sub" text NOT NULL, "username" text NOT NULL, "email" text, "display_name" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_1ac76d6d17ea198c621bdc4e292" UNIQUE ("cognito_sub"), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
