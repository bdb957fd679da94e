import { listenForShutdownSignals, receivedSignal, shutdownSignal, stopFault } from './utils/shutdown.js';

// First: a SIGTERM during start-up or migrations must not kill the process half-way.
listenForShutdownSignals();

const { ConfigError, loadConfig } = await import('./config/config.js');
const { MigrationsInterrupted } = await import('./database/migrator.js');

/** Validates the environment (exit 1 naming every bad variable), starts telemetry, then loads and runs the app. */
async function main(): Promise<void> {
  const config = loadConfig();
  const { instrument } = await import('./instrumentation.js');
  await instrument(config.telemetry);
  // Imported only now, so that the modules the SDK instruments (http) load after it.
  const { serve } = await import('./server.js');
  await serve(config);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else if (stopFault()) {
    process.stderr.write(`Runway did not start: ${stopFault()}\n`);
  } else if (error instanceof MigrationsInterrupted || shutdownSignal.aborted) {
    process.stderr.write(
      `Runway did not start: ${receivedSignal()} received during start-up; ${(error as Error).message}\n`,
    );
  } else {
    process.stderr.write(
      `Runway failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  process.exit(1);
});
