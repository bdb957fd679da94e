import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { pendingMigrations } from './migrator.js';

/** How often, while migrations are pending, the database is asked again. */
const RECHECK_MS = 1_000;

/**
 * Whether the database holds every migration this code knows. Code running ahead of its schema (a deployment whose
 * migrations did not run) would fail its queries, so requests wait for it, as readiness does. Once the migrations
 * are applied they stay applied for the life of the process, and asking costs nothing.
 */
@Injectable()
export class MigrationStatus {
  private applied = false;
  private lastCheck?: { at: number; pending: Promise<string[]> };

  constructor(private readonly dataSource: DataSource) {}

  get upToDate(): boolean {
    return this.applied;
  }

  /** The migrations still to apply: asked of the database at most once a second (rejects while it is unreachable). */
  pending(): Promise<string[]> {
    if (this.applied) return Promise.resolve([]);
    const now = Date.now();
    if (!this.lastCheck || now - this.lastCheck.at >= RECHECK_MS) {
      const pending = pendingMigrations(this.dataSource).then((names) => {
        this.applied = names.length === 0;
        return names;
      });
      pending.catch(() => undefined);
      this.lastCheck = { at: now, pending };
    }
    return this.lastCheck.pending;
  }
}
