import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { instrument } from './instrumentation.js';

/** Validates the environment (exit 1 naming every bad variable), starts telemetry, then loads and runs the app. */
async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  await instrument(config.telemetry);
  // Imported only now, so that the modules the SDK instruments (http, pg) load after it.
  const { serve } = await import('./server.js');
  await serve(config);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Runway failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
