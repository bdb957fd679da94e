import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { RequestWithPrincipal } from '../auth/access-policy.js';
import { isSynthetic } from '../auth/principal.js';
import { AnalyticsService } from './analytics.service.js';

/**
 * Every request of a signed-in user marks them active today (a write only on their first request of the day). A
 * guard rather than an interceptor: it runs after the authentication guard, which sets the principal, and costs a
 * signed-in request nothing once the user is marked. The synthetic journey's user is never active.
 */
@Injectable()
export class ActivityGuard implements CanActivate {
  constructor(private readonly analytics: AnalyticsService) {}

  canActivate(context: ExecutionContext): true | Promise<true> {
    const { principal } = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const marking =
      principal &&
      'userId' in principal &&
      !isSynthetic(principal) &&
      this.analytics.markActive(principal.userId);
    return marking ? marking.then(() => true) : true;
  }
}
