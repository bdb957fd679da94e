import { createNoopMeter, metrics } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TelemetryConfig } from '../config/config.js';
import { APP_VERSION } from '../utils/version.js';

/** Where spans and metrics go instead of the OTEL_* exporters (the tests' in-memory exporters). */
export interface TelemetryExport {
  readonly spanProcessors?: SpanProcessor[];
  readonly metricReaders?: IMetricReader[];
}

let sdk: NodeSDK | undefined;

/** True once the SDK runs in this process: the app then adds its handler spans. */
export const telemetryStarted = (): boolean => sdk !== undefined;

/**
 * Starts the OpenTelemetry SDK. Call it before the modules it instruments (http, pg) are loaded: main.ts does,
 * through instrumentation.ts. Exporters, protocol, endpoint and sampler come from the standard OTEL_* variables.
 */
export function startTelemetry(config: TelemetryConfig, exportTo: TelemetryExport = {}): void {
  if (sdk) throw new Error('OpenTelemetry is already started in this process');
  const pgInstrumentation = new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true });
  sdk = new NodeSDK({
    serviceName: config.serviceName,
    resource: resourceFromAttributes({
      [ATTR_SERVICE_VERSION]: APP_VERSION,
      'deployment.environment.name': config.deploymentEnvironment,
    }),
    ...(config.xrayTraceIds && {
      idGenerator: new AWSXRayIdGenerator(),
      // The last propagator that finds its header wins: a W3C `traceparent` beats `X-Amzn-Trace-Id`.
      textMapPropagator: new CompositePropagator({
        propagators: [new AWSXRayPropagator(), new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
      }),
    }),
    instrumentations: [
      // Outgoing calls only: server spans come from Fastify's hooks (server-spans.ts).
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
      new UndiciInstrumentation(),
      // Statements only (no parameter values, no pool checkouts); none from background work outside a request.
      pgInstrumentation,
      new RuntimeNodeInstrumentation(),
    ],
    // `undefined` lets the SDK build them from OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER; `[]` turns a signal off.
    spanProcessors: exportTo.spanProcessors ?? (config.tracesEnabled ? undefined : []),
    metricReaders: exportTo.metricReaders ?? (config.metricsEnabled ? undefined : []),
    // Logs go to stdout as JSON (CloudWatch Logs reads them there), not through OTLP.
    logRecordProcessors: [],
  });
  sdk.start();
  // Its pool counters are updated on every checkout and release (measurably costly per request); the pool gauges
  // in pool-metrics.ts read the same numbers once per export instead.
  pgInstrumentation.setMeterProvider({ getMeter: () => createNoopMeter() });
  // The runtime instrumentation reports the V8 heap; the container's limit is on the whole process.
  metrics
    .getMeter('runway')
    .createObservableGauge('process.memory.usage', { description: 'Resident set size', unit: 'By' })
    .addCallback((result) => result.observe(process.memoryUsage.rss()));
}

/** Flushes what is buffered and stops exporting (graceful shutdown). */
export async function stopTelemetry(): Promise<void> {
  await sdk?.shutdown();
  sdk = undefined;
}
