import { Injectable } from '@nestjs/common';
import { metrics, type Counter } from '@opentelemetry/api';

/**
 * The product's own counters, next to the HTTP, database and runtime metrics the instrumentations record.
 * A feature adds its counter here and increments it where the event happens.
 */
@Injectable()
export class BusinessMetrics {
  private readonly meter = metrics.getMeter('runway');

  readonly usersProvisioned: Counter = this.meter.createCounter('runway.users.provisioned', {
    description: 'Users created on their first signed-in request',
    unit: '{user}',
  });

  readonly projectsCreated: Counter = this.meter.createCounter('runway.projects.created', {
    description: 'Projects created',
    unit: '{project}',
  });
}
