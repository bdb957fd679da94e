/**
 * The database work of the endpoints the benchmark loads, and nothing else (no authentication, validation, logging
 * or security headers): what the reference servers (bench/baseline.ts, bench/nest-floor.ts) answer with, so that
 * both run the same statements as each other and as Runway.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const PROJECT_COLUMNS = 'id, name, description, status, created_at, updated_at, version';

export interface ReferenceRoutes {
  pool: pg.Pool;
  ready(): Promise<{ status: string }>;
  /** GET /v1/me: the user is fixed by BENCH_SUB. */
  me(): Promise<object>;
  /** GET /v1/projects/:id: the owner is fixed by BENCH_USER_ID. */
  project(id: string): Promise<object | undefined>;
  /** POST /v1/projects: the same INSERT, for the users who send in turn (Runway's senders, whom its tokens name). */
  createProject(name: string): Promise<object>;
  /** POST /v1/events: the batch in one multi-row INSERT, for the users who send in turn; no duplicate check or rollups. */
  storeEvents(events: unknown[]): Promise<{ accepted: number; duplicates: number }>;
}

export function referenceRoutes(env: NodeJS.ProcessEnv): ReferenceRoutes {
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: Number(env.DB_POOL_MAX ?? 10) });
  const senders = (env.BENCH_SENDER_IDS ?? '').split(',');
  let turn = 0;
  return {
    pool,
    async ready() {
      await pool.query('SELECT 1');
      return { status: 'ok' };
    },
    async me() {
      const { rows } = await pool.query<{
        id: string;
        username: string;
        display_name: string | null;
        created_at: Date;
      }>('SELECT id, username, display_name, created_at FROM users WHERE cognito_sub = $1', [env.BENCH_SUB]);
      const user = rows[0]!;
      return {
        id: user.id,
        username: user.username,
        displayName: user.display_name,
        groups: [],
        createdAt: user.created_at,
      };
    },
    async project(id) {
      const { rows } = await pool.query(
        `SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1 AND owner_id = $2`,
        [id, env.BENCH_USER_ID],
      );
      return rows[0] as object | undefined;
    },
    async createProject(name) {
      const { rows } = await pool.query(
        `INSERT INTO projects (id, owner_id, name) VALUES ($1, $2, $3) RETURNING ${PROJECT_COLUMNS}`,
        [randomUUID(), senders[turn++ % senders.length], name],
      );
      return rows[0] as object;
    },
    async storeEvents(events) {
      await pool.query(
        `INSERT INTO analytics_events (user_id, occurred_at, name, id, properties)
         SELECT $1, coalesce("occurredAt", now()), name, id, properties
         FROM jsonb_to_recordset($2::jsonb) AS e(id uuid, name text, "occurredAt" timestamptz, properties jsonb)`,
        [senders[turn++ % senders.length], JSON.stringify(events)],
      );
      return { accepted: events.length, duplicates: 0 };
    },
  };
}
