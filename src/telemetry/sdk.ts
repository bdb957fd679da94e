import { metrics, trace, type Context, type TextMapGetter } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { RuntimeNodeInstrumentation } from '@opentelemetry/instrumentation-runtime-node';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import type { Sampler, SpanProcessor } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { TelemetryConfig } from '../config/config.js';
import { APP_VERSION } from '../utils/version.js';
import { telemetryRunning } from './telemetry.js';

/**
 * What replaces the OTEL_* settings: where spans and metrics go (the tests' in-memory exporters), and the sampler
 * (`xraySampler`, which has to be loaded first).
 */
export interface TelemetryOptions {
  readonly spanProcessors?: SpanProcessor[];
  readonly metricReaders?: IMetricReader[];
  readonly sampler?: Sampler;
}

/** Where the X-Ray daemon or the collector's `awsproxy` extension serves the sampling rules. */
const XRAY_SAMPLING_ENDPOINT = 'http://localhost:2000';

/**
 * `OTEL_TRACES_SAMPLER=xray`: the X-Ray sampling rules of the account, changeable in the console without a deploy,
 * read every 5 minutes through the collector; until they arrive (or without a collector), X-Ray's default rule:
 * 1 request a second plus 5 % of the rest. It follows the caller's decision when there is one.
 */
export async function xraySampler(config: TelemetryConfig): Promise<Sampler> {
  const { AWSXRayRemoteSampler } = await import('@opentelemetry/sampler-aws-xray');
  return new AWSXRayRemoteSampler({
    resource: telemetryResource(config),
    endpoint: XRAY_SAMPLING_ENDPOINT,
    pollingInterval: 300,
  });
}

/**
 * X-Ray's header with its ids in either case, as X-Ray reads it, but the ids passed on in lowercase: W3C's `traceparent`
 * (the next service's) refuses uppercase, and the logs' trace ids are searched as written.
 */
class LowerCaseXRayPropagator extends AWSXRayPropagator {
  override extract(context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const extracted = super.extract(context, carrier, getter);
    const parent = trace.getSpanContext(extracted);
    if (!parent) return extracted;
    return trace.setSpanContext(extracted, {
      ...parent,
      traceId: parent.traceId.toLowerCase(),
      spanId: parent.spanId.toLowerCase(),
    });
  }
}

function telemetryResource(config: TelemetryConfig) {
  return resourceFromAttributes({
    [ATTR_SERVICE_NAME]: config.serviceName,
    [ATTR_SERVICE_VERSION]: APP_VERSION,
    'deployment.environment.name': config.deploymentEnvironment,
  });
}

/**
 * Starts the OpenTelemetry SDK. Call it before the modules it instruments (http) are loaded: main.ts does,
 * through instrumentation.ts. Exporters, protocol, endpoint and sampler come from the standard OTEL_* variables.
 */
export function startTelemetry(config: TelemetryConfig, options: TelemetryOptions = {}): void {
  const sdk = new NodeSDK({
    serviceName: config.serviceName,
    resource: telemetryResource(config),
    sampler: options.sampler,
    ...(config.xrayTraceIds && {
      idGenerator: new AWSXRayIdGenerator(),
      // The last propagator that finds its header wins: a W3C `traceparent` beats `X-Amzn-Trace-Id`.
      textMapPropagator: new CompositePropagator({
        propagators: [
          new LowerCaseXRayPropagator(),
          new W3CTraceContextPropagator(),
          new W3CBaggagePropagator(),
        ],
      }),
    }),
    instrumentations: [
      // Outgoing calls only: server spans come from Fastify's hooks (server-spans.ts).
      new HttpInstrumentation({ disableIncomingRequestInstrumentation: true }),
      new UndiciInstrumentation(),
      new RuntimeNodeInstrumentation(),
    ],
    // `undefined` lets the SDK build them from OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER; `[]` turns a signal off.
    spanProcessors: options.spanProcessors ?? (config.tracesEnabled ? undefined : []),
    metricReaders: options.metricReaders ?? (config.metricsEnabled ? undefined : []),
    // Logs go to stdout as JSON (CloudWatch Logs reads them there), not through OTLP.
    logRecordProcessors: [],
  });
  telemetryRunning(sdk);
  sdk.start();
  // The runtime instrumentation reports the V8 heap; the container's limit is on the whole process.
  metrics
    .getMeter('runway')
    .createObservableGauge('process.memory.usage', { description: 'Resident set size', unit: 'By' })
    .addCallback((result) => result.observe(process.memoryUsage.rss()));
}
