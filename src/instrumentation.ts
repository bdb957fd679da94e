import type { TelemetryConfig } from './config/config.js';

/**
 * Starts tracing and metrics before the app is imported, so that `http` is patched before anything uses it. No ESM
 * loader hook: the instrumentations left patch CommonJS `http`/`https` (the AWS SDK) or listen on undici's
 * diagnostics channel (`fetch`), and a hook would see every module the app imports. With nothing to export to, the
 * SDK is not even loaded: telemetry then costs nothing.
 */
export async function instrument(config: TelemetryConfig): Promise<void> {
  if (!config.tracesEnabled && !config.metricsEnabled) return;
  const { startTelemetry, xraySampler } = await import('./telemetry/sdk.js');
  startTelemetry(config, { sampler: config.sampler.name === 'xray' ? await xraySampler(config) : undefined });
}
