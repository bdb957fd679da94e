import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Manual tasks (src/tasks), their emailed links, the audit log (src/audit) and project reviews (src/project-reviews).
 * Written by hand: the tables have no entities (repositories use SQL only).
 */
export class CreateTasksAndAudit1795955937251 implements MigrationInterface {
  name = 'CreateTasksAndAudit1795955937251';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "tasks" (
        "id" uuid PRIMARY KEY,
        "type" character varying(64) NOT NULL,
        "title" character varying(200) NOT NULL,
        "description" character varying(4000) NOT NULL DEFAULT '',
        "payload" jsonb NOT NULL DEFAULT '{}',
        "status" character varying(16) NOT NULL DEFAULT 'open',
        "subject_user_id" uuid REFERENCES "users" ("id") ON DELETE SET NULL,
        "assignee_id" uuid REFERENCES "users" ("id") ON DELETE SET NULL,
        "due_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE,
        "created_by_kind" character varying(16) NOT NULL,
        "created_by_id" character varying(128) NOT NULL,
        "decision_outcome" character varying(16),
        "decision_comment" character varying(2000),
        "decided_by" character varying(320),
        "decided_at" TIMESTAMP WITH TIME ZONE,
        "decided_via" character varying(8),
        "task_token" bytea,
        "callback_status" character varying(16),
        "callback_reason" character varying(500),
        "callback_attempts" integer NOT NULL DEFAULT 0,
        "reminded_at" TIMESTAMP WITH TIME ZONE,
        "escalated_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "version" integer NOT NULL DEFAULT 1,
        CONSTRAINT "ck_tasks_status" CHECK (status IN ('open', 'approved', 'rejected', 'cancelled', 'expired')),
        CONSTRAINT "ck_tasks_decision" CHECK ((status = 'open') = (decided_at IS NULL) AND (decision_outcome IS NULL OR decision_outcome = status)),
        CONSTRAINT "ck_tasks_created_by_kind" CHECK (created_by_kind IN ('user', 'machine', 'system')),
        CONSTRAINT "ck_tasks_decided_via" CHECK (decided_via IN ('api', 'email', 'system')),
        CONSTRAINT "ck_tasks_callback" CHECK ((callback_status IS NULL) = (task_token IS NULL) AND callback_status IN ('pending', 'delivered', 'failed'))
      )`);
    // The inbox (by status, then due date), the sweeps of open tasks, and the foreign keys' deletes.
    await queryRunner.query(`CREATE INDEX "ix_tasks_status_due_at_id" ON "tasks" ("status", "due_at", "id")`);
    await queryRunner.query(
      `CREATE INDEX "ix_tasks_open_expires_at" ON "tasks" ("expires_at") WHERE status = 'open' AND expires_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_tasks_decided_at" ON "tasks" ("decided_at") WHERE decided_at IS NOT NULL`,
    );
    await queryRunner.query(`CREATE INDEX "ix_tasks_subject_user_id" ON "tasks" ("subject_user_id")`);
    await queryRunner.query(`CREATE INDEX "ix_tasks_assignee_id" ON "tasks" ("assignee_id")`);
    await queryRunner.query(`
      CREATE TABLE "task_links" (
        "id" uuid PRIMARY KEY,
        "task_id" uuid NOT NULL REFERENCES "tasks" ("id") ON DELETE CASCADE,
        "recipient" character varying(320) NOT NULL,
        "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "used_at" TIMESTAMP WITH TIME ZONE,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX "ix_task_links_task_id" ON "task_links" ("task_id")`);
    await queryRunner.query(`
      CREATE TABLE "audit_log" (
        "id" uuid PRIMARY KEY,
        "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "actor_kind" character varying(16) NOT NULL,
        "actor_id" character varying(320) NOT NULL,
        "action" character varying(64) NOT NULL,
        "target_type" character varying(32) NOT NULL,
        "target_id" character varying(128) NOT NULL,
        "via" character varying(8) NOT NULL,
        "details" jsonb NOT NULL DEFAULT '{}'
      )`);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_actor_id_id" ON "audit_log" ("actor_id", "id")`);
    await queryRunner.query(`CREATE INDEX "ix_audit_log_action_id" ON "audit_log" ("action", "id")`);
    // The example flow (src/project-reviews): one review per project, the latest request's.
    await queryRunner.query(`
      CREATE TABLE "project_reviews" (
        "project_id" uuid PRIMARY KEY REFERENCES "projects" ("id") ON DELETE CASCADE,
        "status" character varying(16) NOT NULL,
        "task_id" uuid NOT NULL,
        "requested_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "decided_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "ck_project_reviews_status" CHECK (status IN ('requested', 'approved', 'rejected', 'withdrawn'))
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "project_reviews"`);
    await queryRunner.query(`DROP TABLE "audit_log"`);
    await queryRunner.query(`DROP TABLE "task_links"`);
    await queryRunner.query(`DROP TABLE "tasks"`);
  }
}
