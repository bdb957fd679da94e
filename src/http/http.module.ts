import { Global, Module } from '@nestjs/common';
import { ResourceHeadersInterceptor } from './etag.js';
import { IdempotencyInterceptor } from './idempotency/idempotency.interceptor.js';
import { IdempotencyService } from './idempotency/idempotency.service.js';

/**
 * Cross-cutting HTTP mechanisms, applied where they are used (`@ResourceHeaders()` on a controller,
 * `@Idempotent()` on a creating POST) so other routes do not pay for them.
 */
@Global()
@Module({
  providers: [IdempotencyService, IdempotencyInterceptor, ResourceHeadersInterceptor],
  exports: [IdempotencyService, IdempotencyInterceptor, ResourceHeadersInterceptor],
})
export class HttpModule {}
