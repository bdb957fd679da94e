/**
 * The benchmark baseline: bare Fastify + pg doing the same database work as the Runway endpoint it is compared
 * with, and nothing else (no Nest, no logging, no validation, no auth). Run by bench/run.ts.
 */
import Fastify from 'fastify';
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

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
process.once('SIGTERM', () => {
  void app
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
