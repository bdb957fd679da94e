import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
  type DataPoint,
  type Histogram,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { loadConfig } from '../../src/config/config.js';
import { startTelemetry, xraySampler } from '../../src/telemetry/sdk.js';
import { until } from './until.js';

/**
 * Importing this module starts the real SDK (instrumentations, X-Ray ids, propagators, sampler from OTEL_*) with
 * in-memory exporters. Import it before anything that loads http or pg; set OTEL_* first with `vi.hoisted`.
 */
const spanExporter = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const metricReader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const { telemetry } = loadConfig({
  ...process.env,
  DATABASE_URL: 'postgres://unused@localhost/unused',
  COGNITO_USER_POOL_ID: 'eu-west-1_Unused',
  COGNITO_CLIENT_ID: 'unused',
});
startTelemetry(telemetry, {
  spanProcessors: [new SimpleSpanProcessor({ exporter: spanExporter })],
  metricReaders: [metricReader],
  sampler: telemetry.sampler.name === 'xray' ? await xraySampler(telemetry) : undefined,
});

export const finishedSpans = (): ReadableSpan[] => spanExporter.getFinishedSpans();
export const resetSpans = (): void => spanExporter.reset();

/** Waits until a span matching `predicate` has ended (the server span ends after the response is sent). */
export async function spanWhere(predicate: (span: ReadableSpan) => boolean): Promise<ReadableSpan> {
  if (await until(() => finishedSpans().some(predicate), { timeoutMs: 30_000, everyMs: 10 }))
    return finishedSpans().find(predicate)!;
  throw new Error(
    `no such span among: ${finishedSpans()
      .map((span) => span.name)
      .join(', ')}`,
  );
}

/** The metrics recorded so far, as exported. */
export async function exportedMetrics(): Promise<MetricData[]> {
  metricExporter.reset();
  await metricReader.forceFlush();
  return metricExporter
    .getMetrics()
    .flatMap(({ scopeMetrics }) => scopeMetrics.flatMap(({ metrics }) => metrics));
}

/** Collects the metrics recorded so far: name → data points. */
export async function collectMetrics(): Promise<Map<string, DataPoint<number | Histogram>[]>> {
  const collected = new Map<string, DataPoint<number | Histogram>[]>();
  for (const metric of await exportedMetrics()) {
    collected.set(metric.descriptor.name, [
      ...(collected.get(metric.descriptor.name) ?? []),
      ...(metric.dataPoints as DataPoint<number | Histogram>[]),
    ]);
  }
  return collected;
}
