import { Injectable } from '@nestjs/common';
import { metrics, type Counter, type Histogram, type ObservableResult } from '@opentelemetry/api';
import { DatabaseIdleness } from '../database/database-idleness.js';
import { Database } from '../database/database.js';

type MetricName = `runway.${string}`;
type Unit = `{${string}}` | 's';

/**
 * The product's own metrics, next to the HTTP, database and runtime metrics the instrumentations record. A feature
 * creates its instruments here (`runway.<feature>.<event>`) and records them where the event happens.
 */
@Injectable()
export class BusinessMetrics {
  private readonly meter = metrics.getMeter('runway');

  constructor(
    private readonly idleness: DatabaseIdleness,
    private readonly db: Database,
  ) {}

  /**
   * Counts committed work: inside a transaction an `add` counts once that commits, never if it rolls back (a request
   * that failed late, or was retried with the same Idempotency-Key, counts once). Histograms record the same way.
   */
  counter(name: MetricName, description: string, unit: Unit): Counter {
    const counter = this.meter.createCounter(name, { description, unit });
    return {
      add: (value, attributes, context) =>
        void this.db.afterCommit(() => counter.add(value, attributes, context)),
    };
  }

  histogram(name: MetricName, description: string, unit: Unit, buckets?: number[]): Histogram {
    const histogram = this.meter.createHistogram(name, {
      description,
      unit,
      advice: buckets ? { explicitBucketBoundaries: buckets } : undefined,
    });
    return {
      record: (value, attributes, context) =>
        void this.db.afterCommit(() => histogram.record(value, attributes, context)),
    };
  }

  /**
   * A value read when metrics are exported (once a minute), not on every change: for counts the database knows, such
   * as open tasks. Nothing runs while metrics are off, nor while the database sleeps (DatabaseIdleness).
   */
  gauge(
    name: MetricName,
    description: string,
    unit: Unit,
    observe: (result: ObservableResult) => Promise<void>,
  ) {
    this.meter
      .createObservableGauge(name, { description, unit })
      .addCallback((result) => (this.idleness.asleep ? undefined : observe(result)));
  }
}
