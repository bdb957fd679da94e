import type { ModuleMetadata } from '@nestjs/common';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import { createApp } from './app.js';
import type { AppConfig } from './config/config.js';
import { DrainState } from './health/drain-state.js';
import { stopTelemetry } from './telemetry/telemetry.js';
import { listenForShutdownSignals, receivedSignal, shutdownSignal, stopFault } from './utils/shutdown.js';

/** The process: build the app, listen, and stop gracefully on SIGTERM/SIGINT. `extraModules`: test fixtures. */
export async function serve(
  config: AppConfig,
  extraModules: NonNullable<ModuleMetadata['imports']> = [],
): Promise<void> {
  listenForShutdownSignals();
  const app = await createApp(config, extraModules);
  if (shutdownSignal.aborted) {
    await app.close();
    throw new Error('stopped before listening');
  }
  const closeUnusedConnections = unusedConnectionsCloser(app.getHttpServer());
  await app.listen({ port: config.http.port, host: config.http.host });
  stopGracefullyOnSignals(app, config.http.shutdownTimeoutMs, closeUnusedConnections);
  // The address as bound: Nest's getUrl() says 127.0.0.1 for 0.0.0.0.
  const { address, port } = app.getHttpServer().address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  app.get(Logger).log(`Runway listening on http://${host}:${port}`, 'Bootstrap');
}

/** How long responses go on telling clients to close their connections before idle ones are closed. */
const DRAIN_GRACE_MS = 1_000;
/** How often, once the listener is closed, connections that never carried a request are closed. */
const UNUSED_SWEEP_MS = 100;
const UNUSED_FOR_MS = 1_000;
/** Bounds on the last export of telemetry: after a drain, and after a drain that timed out (ECS kills at 30 s). */
const FLUSH_MS = 5_000;
const LATE_FLUSH_MS = 2_000;

/**
 * Exports what is buffered. Telemetry is best effort: a collector that is gone (or slow) neither holds the exit
 * beyond `boundMs` nor turns it into a failure; it is a warning.
 */
async function flushTelemetry(logger: Logger, boundMs: number): Promise<void> {
  const bound = sleep(boundMs, 'timeout', { ref: false });
  const outcome = await Promise.race([stopTelemetry().then(() => 'flushed'), bound]).catch(
    (error: unknown) => error,
  );
  if (outcome === 'flushed') return;
  logger.warn(
    `Telemetry not exported at shutdown: ${outcome === 'timeout' ? `no answer within ${boundMs} ms` : String(outcome)}`,
    'Shutdown',
  );
}

/**
 * Readiness turns 503 and every response closes its connection; after a moment the server stops accepting
 * connections and closes the idle ones, in-flight requests finish, then the pool closes and the process exits 0 —
 * or 1 if that takes longer than SHUTDOWN_TIMEOUT_MS.
 */
function stopGracefullyOnSignals(
  app: NestFastifyApplication,
  timeoutMs: number,
  closeUnusedConnections: () => void,
): void {
  const logger = app.get(Logger);
  const server = app.getHttpServer();
  // Once only: a second signal (Ctrl-C reaches both a runner and its child) must not cut the drain short.
  const stop = async (signal: string) => {
    const fault = stopFault();
    logger.log(`${fault ?? `${signal} received`}: finishing in-flight requests`, 'Shutdown');
    app.get(DrainState).draining = true;
    setTimeout(() => {
      logger.error(`Shutdown took longer than ${timeoutMs} ms; exiting`, 'Shutdown');
      // What is buffered may be what explains the stuck shutdown; the container's stop timeout leaves a moment for it.
      void flushTelemetry(logger, LATE_FLUSH_MS).finally(() => process.exit(1));
    }, timeoutMs).unref();
    try {
      // Every response now says Connection: close, so clients stop reusing their connections. Closing an idle one at
      // the moment its client sends on it would reset that request: first let the busy ones answer once more.
      await sleep(Math.min(DRAIN_GRACE_MS, timeoutMs / 2));
      setInterval(() => !server.listening && closeUnusedConnections(), UNUSED_SWEEP_MS).unref();
      await app.close();
      await flushTelemetry(logger, FLUSH_MS);
      logger.log('Stopped', 'Shutdown');
      // Log lines may still sit in an asynchronous transport (pretty output in development).
      await new Promise<void>((resolve) => PinoLogger.root.flush(() => resolve()));
      process.exit(fault ? 1 : 0);
    } catch (error) {
      logger.error(error, 'Shutdown');
      await flushTelemetry(logger, FLUSH_MS);
      process.exit(1);
    }
  };
  shutdownSignal.addEventListener('abort', () => void stop(receivedSignal()));
  if (shutdownSignal.aborted) void stop(receivedSignal());
}

/**
 * Connections that never carried a request (a browser's preconnect, a client pool's spare socket): Node's close of
 * idle connections leaves them open, and the server's close would wait until their client gives up. One opened a
 * moment ago may be about to carry its first: only those unused for a second are closed.
 */
function unusedConnectionsCloser(server: Server): () => void {
  const openedAt = new Map<Socket, number>();
  server.on('connection', (socket: Socket) => {
    openedAt.set(socket, performance.now());
    socket.once('close', () => openedAt.delete(socket));
  });
  return () => {
    const before = performance.now() - UNUSED_FOR_MS;
    for (const [socket, at] of openedAt) if (socket.bytesRead === 0 && at < before) socket.destroy();
  };
}
