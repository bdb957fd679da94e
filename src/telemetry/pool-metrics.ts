import { Injectable, type OnModuleInit } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';

/**
 * The database pool as OpenTelemetry's semantic conventions name it (`db.client.connection.count` by state,
 * `db.client.connection.pending_requests`), read from the pool when metrics are collected. Gauges, where the
 * conventions say up-down counters: CloudWatch's exporter sends a cumulative sum as its change since the last export,
 * and the SDK exports up-down counters cumulative even when told delta, so a steady pool would read 0.
 */
@Injectable()
export class PoolMetrics implements OnModuleInit {
  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    const meter = metrics.getMeter('runway');
    const connections = meter.createObservableGauge('db.client.connection.count', {
      description: 'Connections in the pool, by state',
      unit: '{connection}',
    });
    const pending = meter.createObservableGauge('db.client.connection.pending_requests', {
      description: 'Requests waiting for a connection',
      unit: '{request}',
    });
    meter.addBatchObservableCallback(
      (result) => {
        // The pool exists once the data source has connected (possibly after the process started).
        const pool = (this.dataSource.driver as PostgresDriver).master as Pool | undefined;
        if (!pool) return;
        const poolName = { 'db.client.connection.pool.name': 'runway' };
        result.observe(connections, pool.totalCount - pool.idleCount, {
          ...poolName,
          'db.client.connection.state': 'used',
        });
        result.observe(connections, pool.idleCount, { ...poolName, 'db.client.connection.state': 'idle' });
        result.observe(pending, pool.waitingCount, poolName);
      },
      [connections, pending],
    );
  }
}
