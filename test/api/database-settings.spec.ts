import { describe, expect, it } from 'vitest';
import { Database, sql } from '../../src/database/database.js';
import { useTestApp } from '../support/app.js';

/** The DB_* settings reach the sessions the app opens, not only its configuration. */
describe('database settings', () => {
  const t = useTestApp({
    env: { DB_STATEMENT_TIMEOUT_MS: '4321', DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5432', DB_POOL_MAX: '3' },
  });

  it('sets the statement and idle-in-transaction timeouts of every request session', async () => {
    const db = t.app.get(Database);
    const sessions = await Promise.all(
      Array.from({ length: 3 }, () =>
        db.transaction(async () => {
          const [row] = await db.rows<{ statement: string; idle: string; pid: number }>(
            sql`SELECT current_setting('statement_timeout') AS statement,
                       current_setting('idle_in_transaction_session_timeout') AS idle, pg_backend_pid() AS pid`,
          );
          // Held open a moment, so the three run on three connections at once.
          await db.rows(sql`SELECT pg_sleep(0.05)`);
          return row!;
        }),
      ),
    );
    expect(new Set(sessions.map(({ pid }) => pid)).size).toBe(3);
    for (const session of sessions) expect(session).toMatchObject({ statement: '4321ms', idle: '5432ms' });
  });

  it('never reports a transaction as committed that PostgreSQL rolled back (an error caught inside it)', async () => {
    const db = t.app.get(Database);
    const caught = db.transaction(async () => {
      await db.rows(sql`SELECT 1 / 0`).catch(() => undefined);
      return 'done';
    });
    await expect(caught).rejects.toThrow(/rolled back/);
  });

  it('opens at most DB_POOL_MAX connections for requests', async () => {
    const db = t.app.get(Database);
    const pids = await Promise.all(
      Array.from({ length: 6 }, () =>
        db.transaction(async () => {
          const [row] = await db.rows<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)`);
          return row!.pid;
        }),
      ),
    );
    expect(new Set(pids).size).toBeLessThanOrEqual(3);
  });
});
