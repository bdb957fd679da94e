/**
 * Production entry point that only migrates: `node dist/src/migrate.js` (the pipeline runs it as a one-off task
 * before each deployment). Applies pending migrations under the advisory lock, prints one line, exits 0; exits 1
 * on bad configuration, a database still unreachable after two minutes, or a failed migration.
 */
import { ConfigError, loadDatabaseConfig } from './config/config.js';
import { createDataSource } from './database/data-source.js';
import { runMigrations } from './database/migrator.js';
import { retryWithBackoff } from './utils/retry.js';

/** Long enough for an Aurora Serverless cluster paused at 0 ACU to resume. */
const CONNECT_DEADLINE_MS = 120_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

async function migrate(): Promise<number> {
  let dataSource;
  try {
    dataSource = createDataSource(loadDatabaseConfig());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  const connected = await retryWithBackoff(() => dataSource.initialize(), {
    signal: AbortSignal.timeout(CONNECT_DEADLINE_MS),
    maxDelayMs: 5_000,
    onFailure: (error, attempt) => say(`Database not reachable yet (attempt ${attempt}): ${String(error)}`),
  });
  if (!connected) {
    process.stderr.write(`Database not reachable within ${CONNECT_DEADLINE_MS} ms\n`);
    return 1;
  }
  try {
    const applied = await runMigrations(dataSource);
    say(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'No pending migrations.');
    return 0;
  } catch (error) {
    process.stderr.write(
      `Migration failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  } finally {
    await dataSource.destroy();
  }
}

process.exitCode = await migrate();
