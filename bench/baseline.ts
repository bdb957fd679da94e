/**
 * The benchmark baseline: bare Fastify + pg doing the same database work as the Runway endpoint it is compared
 * with, and nothing else (no Nest, no logging, no validation, no auth). Run by bench/run.ts.
 */
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import pg from 'pg';

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DB_POOL_MAX ?? 10),
});
const app = Fastify({ logger: false });

app.get('/health/ready', async () => {
  await pool.query('SELECT 1');
  return { status: 'ok' };
});

// GET /v1/me without authentication: the user is fixed by BENCH_SUB.
app.get('/v1/me', async () => {
  const { rows } = await pool.query<{
    id: string;
    username: string;
    display_name: string | null;
    created_at: Date;
  }>('SELECT id, username, display_name, created_at FROM users WHERE cognito_sub = $1', [
    process.env.BENCH_SUB,
  ]);
  const user = rows[0]!;
  return {
    id: user.id,
    username: user.username,
    displayName: user.display_name,
    groups: [],
    createdAt: user.created_at,
  };
});

const PROJECT_COLUMNS = 'id, name, description, status, created_at, updated_at, version';

// GET /v1/projects/:id without authentication: the owner is fixed by BENCH_USER_ID.
app.get<{ Params: { id: string } }>('/v1/projects/:id', async (request) => {
  const { rows } = await pool.query(
    `SELECT ${PROJECT_COLUMNS} FROM projects WHERE id = $1 AND owner_id = $2`,
    [request.params.id, process.env.BENCH_USER_ID],
  );
  return rows[0];
});

const senders = (process.env.BENCH_SENDER_IDS ?? '').split(',');
let turn = 0;

// POST /v1/projects without authentication, validation or idempotency: the same INSERT, for the users who send in
// turn (Runway's senders, whom its tokens name).
app.post<{ Body: { name: string } }>('/v1/projects', async (request, reply) => {
  const { rows } = await pool.query(
    `INSERT INTO projects (id, owner_id, name) VALUES ($1, $2, $3) RETURNING ${PROJECT_COLUMNS}`,
    [randomUUID(), senders[turn++ % senders.length], request.body.name],
  );
  return reply.code(201).send(rows[0]);
});

// POST /v1/events without authentication, validation, duplicate detection or rollups: the batch in one multi-row
// INSERT, for the users who send in turn (Runway's senders, whom its tokens name).
app.post<{ Body: { events: unknown[] } }>('/v1/events', { bodyLimit: 1 << 20 }, async (request, reply) => {
  const { events } = request.body;
  await pool.query(
    `INSERT INTO analytics_events (user_id, occurred_at, name, id, properties)
     SELECT $1, coalesce("occurredAt", now()), name, id, properties
     FROM jsonb_to_recordset($2::jsonb) AS e(id uuid, name text, "occurredAt" timestamptz, properties jsonb)`,
    [senders[turn++ % senders.length], JSON.stringify(events)],
  );
  return reply.code(202).send({ accepted: events.length, duplicates: 0 });
});

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
