/**
 * Whether the OpenTelemetry SDK runs in this process, without loading it: the SDK and its exporters are imported
 * (sdk.ts) only when there is somewhere to export to.
 */
let running: { shutdown(): Promise<void> } | undefined;

/** True once the SDK runs in this process: the app then adds its server spans. */
export const telemetryStarted = (): boolean => running !== undefined;

export function telemetryRunning(sdk: { shutdown(): Promise<void> }): void {
  if (running) throw new Error('OpenTelemetry is already started in this process');
  running = sdk;
}

/** Flushes what is buffered and stops exporting (graceful shutdown). */
export async function stopTelemetry(): Promise<void> {
  await running?.shutdown();
  running = undefined;
}
