import { Global, Module, type Provider } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BusinessMetrics } from './business-metrics.js';
import { HandlerSpanInterceptor } from './handler-span.interceptor.js';
import { PoolMetrics } from './pool-metrics.js';
import { telemetryStarted } from './telemetry.js';

/**
 * Business counters for every feature; handler spans and pool gauges only when the SDK runs (otherwise they would
 * cost for nothing).
 */
@Global()
@Module({})
export class TelemetryModule {
  static register() {
    const providers: Provider[] = [BusinessMetrics];
    if (telemetryStarted()) {
      providers.push({ provide: APP_INTERCEPTOR, useClass: HandlerSpanInterceptor }, PoolMetrics);
    }
    return { module: TelemetryModule, providers, exports: [BusinessMetrics] };
  }
}
