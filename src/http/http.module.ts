import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ResourceHeadersInterceptor } from './etag.js';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { IdempotencyService } from './idempotency/idempotency.service.js';

/** Cross-cutting HTTP mechanisms. Order matters: idempotency wraps the handler and sees its resource headers. */
@Global()
@Module({
  providers: [
    IdempotencyService,
    { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
    { provide: APP_INTERCEPTOR, useClass: ResourceHeadersInterceptor },
  ],
  exports: [IdempotencyService],
})
export class HttpModule {}
