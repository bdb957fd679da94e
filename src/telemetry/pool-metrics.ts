import { Injectable, type OnModuleInit } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/**
 * The database pool's connections as OpenTelemetry's semantic conventions name them (`db.client.connection.count` by
 * state), read from the pool when metrics are collected; the time requests wait for one is Database's
 * `db.client.connection.wait_time`. A gauge, where the conventions say an up-down counter: CloudWatch's exporter sends
 * a cumulative sum as its change since the last export, and the SDK exports up-down counters cumulative even when told
 * delta, so a steady pool would read 0.
 */
@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    const connections = metrics.getMeter('runway').createObservableGauge('db.client.connection.count', {
      description: 'Connections in the pool, by state',
      unit: '{connection}',
    });
    connections.addCallback((result) => {
      // The pool exists once the data source has connected (possibly after the process started).
      const pool = (this.dataSource.driver as PostgresDriver).master as Pool | undefined;
      if (!pool) return;
      const poolName = { 'db.client.connection.pool.name': 'runway' };
      result.observe(pool.totalCount - pool.idleCount, { ...poolName, 'db.client.connection.state': 'used' });
      result.observe(pool.idleCount, { ...poolName, 'db.client.connection.state': 'idle' });
    });
  }
}
