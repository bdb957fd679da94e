import { Injectable } from '@nestjs/common';
import { Database, empty, sql } from '../database/database.js';

export interface AuditEntry {
  actorKind: 'user' | 'machine' | 'email' | 'system';
  /** A user id, a machine client id, an email address, or the name of the system job. */
  actorId: string;
  /** `task.decided` */
  action: string;
  targetType: string;
  targetId: string;
  via: 'api' | 'email' | 'system';
  details: Record<string, unknown>;
}

export interface AuditRow extends AuditEntry {
  id: string;
  at: Date;
}

const COLUMNS = sql`id, at, actor_kind AS "actorKind", actor_id AS "actorId", action, target_type AS "targetType",
  target_id AS "targetId", via, details`;

/** The audit log: appended in the transaction of the change it records, never updated. */
@Injectable()
export class AuditRepository {
  constructor(private readonly db: Database) {}

  async insert(id: string, entry: AuditEntry): Promise<void> {
    await this.db.affected(sql`
      INSERT INTO audit_log (id, actor_kind, actor_id, action, target_type, target_id, via, details)
      VALUES (${id}, ${entry.actorKind}, ${entry.actorId}, ${entry.action}, ${entry.targetType}, ${entry.targetId},
        ${entry.via}, ${JSON.stringify(entry.details)}::jsonb)`);
  }

  async dropDetails(targetType: string, targetIds: string[], keys: string[]): Promise<void> {
    await this.db.affected(sql`
      UPDATE audit_log SET details = details - ${keys}::text[]
      WHERE target_id = ANY(${targetIds}::text[]) AND target_type = ${targetType} AND details ?| ${keys}::text[]`);
  }

  async targetsOf(userId: string, targetType: string, actions: string[]): Promise<string[]> {
    const rows = await this.db.rows<{ targetId: string }>(sql`
      SELECT DISTINCT target_id AS "targetId" FROM audit_log WHERE actor_kind = 'user' AND actor_id = ${userId}
        AND target_type = ${targetType} AND action = ANY(${actions}::text[])`);
    return rows.map((row) => row.targetId);
  }

  /** `users.listed` literally, as the partial index on the terms (IndexAuditSearchTerms) is. */
  async replaceSearchTerms(terms: string[], replacement: string): Promise<void> {
    await this.db.affected(sql`
      UPDATE audit_log SET target_id = ${replacement}, details = jsonb_set(details, '{q}', to_jsonb(${replacement}::text))
      WHERE action = 'users.listed' AND lower(details ->> 'q') = ANY(${terms}::text[])`);
  }

  /** Newest first (ids are UUIDv7), after the cursor's id. */
  list(query: {
    limit: number;
    afterId?: string;
    actor?: string;
    action?: string;
    target?: string;
  }): Promise<AuditRow[]> {
    return this.db.rows<AuditRow>(sql`
      SELECT ${COLUMNS} FROM audit_log
      WHERE true
        ${query.actor ? sql`AND actor_id = ${query.actor}` : empty}
        ${query.action ? sql`AND action = ${query.action}` : empty}
        ${query.target ? sql`AND target_id = ${query.target}` : empty}
        ${query.afterId ? sql`AND id < ${query.afterId}` : empty}
      ORDER BY id DESC LIMIT ${query.limit}`);
  }
}
