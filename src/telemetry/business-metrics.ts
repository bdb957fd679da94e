import { Injectable } from '@nestjs/common';
import { metrics, type Counter } from '@opentelemetry/api';

/**
 * The product's own counters, next to the HTTP, database and runtime metrics the instrumentations record. A feature
 * creates its counters here (`runway.<feature>.<event>`) and increments them where the event happens.
 */
@Injectable()
export class BusinessMetrics {
  private readonly meter = metrics.getMeter('runway');

  counter(name: `runway.${string}`, description: string, unit: `{${string}}`): Counter {
    return this.meter.createCounter(name, { description, unit });
  }
}
