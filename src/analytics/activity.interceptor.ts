import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, switchMap, type Observable } from 'rxjs';
import type { RequestWithPrincipal } from '../auth/access-policy.js';
import { AnalyticsService } from './analytics.service.js';

/** Every request of a signed-in user marks them active today (a write only on their first request of the day). */
@Injectable()
export class ActivityInterceptor implements NestInterceptor {
  constructor(private readonly analytics: AnalyticsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { principal } = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const marking = principal && 'userId' in principal && this.analytics.markActive(principal.userId);
    return marking ? from(marking).pipe(switchMap(() => next.handle())) : next.handle();
  }
}
