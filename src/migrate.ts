/**
 * Production entry point that only migrates: `node dist/src/migrate.js [--min-runtime-seconds N]` (the pipeline runs
 * it as a one-off task before each deployment). Applies pending migrations under the advisory lock, prints one line,
 * exits 0; exits 1 on bad configuration, a database still unreachable after two minutes, a failed migration, or a
 * SIGTERM (after the migration under way has finished or rolled back). With `--min-runtime-seconds`, it exits no
 * sooner than that after it started (see one-off-task.ts), unless a signal ends it.
 */
import { inspect, parseArgs } from 'node:util';
import { ConfigError, loadDatabaseConfig } from './config/config.js';
import { createMigrationDataSource } from './database/data-source.js';
import { MigrationsInterrupted, runMigrations } from './database/migrator.js';
import { retryWithBackoff } from './utils/retry.js';
import { lingerFrom, MIN_RUNTIME_OPTION, minRuntimeMs } from './utils/one-off-task.js';
import { listenForShutdownSignals, receivedSignal, shutdownSignal } from './utils/shutdown.js';

const startedAt = performance.now();
listenForShutdownSignals();

/** Long enough for an Aurora Serverless cluster paused at 0 ACU to resume. */
const CONNECT_DEADLINE_MS = 120_000;

const say = (line: string) => process.stdout.write(`${line}\n`);

async function migrate(): Promise<number> {
  let dataSource;
  try {
    dataSource = createMigrationDataSource(loadDatabaseConfig());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
  const connected = await retryWithBackoff(() => dataSource.initialize(), {
    signal: AbortSignal.any([AbortSignal.timeout(CONNECT_DEADLINE_MS), shutdownSignal]),
    maxDelayMs: 5_000,
    onFailure: (error, attempt) => say(`Database not reachable yet (attempt ${attempt}): ${String(error)}`),
  });
  if (!connected) {
    process.stderr.write(
      shutdownSignal.aborted
        ? `${receivedSignal()} received before the database answered; nothing applied\n`
        : `Database not reachable within ${CONNECT_DEADLINE_MS} ms\n`,
    );
    return 1;
  }
  try {
    const applied = await runMigrations(dataSource, shutdownSignal);
    say(applied.length ? `Applied migrations: ${applied.join(', ')}` : 'No pending migrations.');
    return 0;
  } catch (error) {
    if (error instanceof MigrationsInterrupted) {
      process.stderr.write(`${receivedSignal()} received: ${error.message}\n`);
      return 1;
    }
    // With its cause: the statement's own error, and where in the migration it came from.
    process.stderr.write(`Migration failed: ${inspect(error)}\n`);
    return 1;
  } finally {
    await dataSource.destroy();
  }
}

let minimumMs: number;
try {
  minimumMs = minRuntimeMs(parseArgs({ options: MIN_RUNTIME_OPTION }).values['min-runtime-seconds']);
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
const code = await migrate();
await lingerFrom(startedAt, minimumMs, shutdownSignal);
process.exitCode = code;
