import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateProjectsAndIdempotencyKeys1795756846886 implements MigrationInterface {
  name = 'CreateProjectsAndIdempotencyKeys1795756846886';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "idempotency_keys" ("principal" text NOT NULL, "route" text NOT NULL, "key" text NOT NULL, "request_hash" text NOT NULL, "response_status" integer NOT NULL, "response_body" json, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_412163ca01fd94225493c2d8b83" PRIMARY KEY ("principal", "route", "key"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_idempotency_keys_expires_at" ON "idempotency_keys"  ("expires_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "projects" ("id" uuid NOT NULL, "owner_id" uuid NOT NULL, "name" character varying(120) NOT NULL, "description" character varying(2000) NOT NULL DEFAULT '', "status" character varying(16) NOT NULL DEFAULT 'active', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "version" integer NOT NULL DEFAULT '1', CONSTRAINT "uq_projects_owner_name" UNIQUE ("owner_id", "name"), CONSTRAINT "ck_projects_status" CHECK (status IN ('active', 'archived')), CONSTRAINT "PK_6271df0a7aed1d6c0691ce6ac50" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "ix_projects_owner_id_id" ON "projects"  ("owner_id", "id") `);
    await queryRunner.query(
      `ALTER TABLE "projects" ADD CONSTRAINT "fk_projects_owner" FOREIGN KEY ("owner_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "projects" DROP CONSTRAINT "fk_projects_owner"`);
    await queryRunner.query(`DROP INDEX "public"."ix_projects_owner_id_id"`);
    await queryRunner.query(`DROP TABLE "projects"`);
    await queryRunner.query(`DROP INDEX "public"."ix_idempotency_keys_expires_at"`);
    await queryRunner.query(`DROP TABLE "idempotency_keys"`);
  }
}
