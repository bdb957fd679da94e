import { Global, Module, type Provider } from '@nestjs/common';
import { BusinessMetrics } from './business-metrics.js';
import { PoolMetrics } from './pool-metrics.js';
import { telemetryStarted } from './telemetry.js';

/**
 * Business counters for every feature; pool gauges only when the SDK runs (otherwise they would cost for nothing).
 */
@Global()
@Module({})
export class TelemetryModule {
  static register() {
    const providers: Provider[] = [BusinessMetrics];
    if (telemetryStarted()) {
      providers.push(PoolMetrics);
    }
    return { module: TelemetryModule, providers, exports: [BusinessMetrics] };
  }
}
