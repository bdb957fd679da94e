import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import type { TelemetryConfig } from './config/config.js';
import { startTelemetry } from './telemetry/telemetry.js';

/**
 * Starts tracing and metrics before the app is imported. The ESM loader hook lets instrumentations patch modules
 * that are `import`ed (not only `require`d); it intercepts only the modules an instrumentation asked for.
 * With nothing to export to, nothing is registered: telemetry then costs nothing.
 */
export async function instrument(config: TelemetryConfig): Promise<void> {
  if (!config.tracesEnabled && !config.metricsEnabled) return;
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  startTelemetry(config);
  await waitForAllMessagesAcknowledged();
}
