import { PgBoss } from 'pg-boss';
import type { DatabaseConfig } from '../config/config.js';
import { KEEP_ALIVE } from '../database/data-source.js';

/** The schema pg-boss keeps its queues and jobs in. */
export const JOBS_SCHEMA = 'pgboss';

/** pg-boss on the app's database, with connections of its own (two). */
export function createPgBoss({ url, ssl, connectTimeoutMs }: DatabaseConfig): PgBoss {
  return new PgBoss({
    connectionString: url,
    ssl,
    // As long as the app's own pool waits: a paused Aurora takes ≈ 15 s to resume, beyond pg-boss's 10 s.
    connectionTimeoutMillis: connectTimeoutMs,
    // As on the app's own connections; pg-boss hands pg's options to its pool without declaring them.
    ...KEEP_ALIVE,
    max: 2,
    // A job sent is picked up at once (queues are declared with `notify`), not at the next poll: pg-boss leaves its
    // listener off unless asked.
    useListenNotify: true,
    schema: JOBS_SCHEMA,
    application_name: 'runway-jobs',
  });
}
