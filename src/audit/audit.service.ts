import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { Database } from '../database/database.js';
import { decodeCursor, toPage, type Page } from '../http/pagination.js';
import { isUuid } from '../http/validation.js';
import type { AuditEntryDto, ListAuditQuery } from './audit.dto.js';
import { AuditRepository, type AuditEntry, type AuditRow } from './audit.repository.js';

export type { AuditEntry };

/** Who did what, when, on what and through which channel: every operator action of the app. */
@Injectable()
export class AuditService {
  constructor(
    private readonly db: Database,
    private readonly entries: AuditRepository,
  ) {}

  /** Must run inside the transaction of the change it records: both commit, or neither. */
  async record(entry: AuditEntry): Promise<void> {
    await this.db.transaction(() => this.entries.insert(uuidv7(), entry));
  }

  /** Removes details from the entries about these targets, in the caller's transaction. */
  async dropDetails(targetType: string, targetIds: string[], keys: string[]): Promise<void> {
    if (targetIds.length > 0) await this.entries.dropDetails(targetType, targetIds, keys);
  }

  /** What a user acted on with one of `actions`: the ids of those targets of the type. */
  targetsOf(userId: string, targetType: string, actions: string[]): Promise<string[]> {
    return this.entries.targetsOf(userId, targetType, actions);
  }

  /**
   * Replaces the term (`q`, also the target) of the operators' searches for users (`users.listed`) that would have
   * found someone by one of `names`: those whose term begins one of them, in any case.
   */
  async forgetSearchesFor(names: string[], replacement: string): Promise<void> {
    const prefixes = names.flatMap((name) => {
      const characters = [...name.toLowerCase()];
      return characters.map((_, end) => characters.slice(0, end + 1).join(''));
    });
    if (prefixes.length > 0) await this.entries.replaceSearchTerms(prefixes, replacement);
  }

  async list(query: ListAuditQuery): Promise<Page<AuditEntryDto>> {
    const rows = await this.entries.list({
      limit: query.limit + 1,
      afterId: query.cursor === undefined ? undefined : decodeCursor(query.cursor, isUuid),
      actor: query.actor,
      action: query.action,
      target: query.target,
    });
    return toPage(rows, query.limit, toDto, (row) => row.id);
  }
}

function toDto(row: AuditRow): AuditEntryDto {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actor: { kind: row.actorKind, id: row.actorId },
    action: row.action,
    target: { type: row.targetType, id: row.targetId },
    via: row.via,
    details: row.details,
  };
}
