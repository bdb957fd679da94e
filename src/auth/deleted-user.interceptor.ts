import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, from, switchMap, type Observable } from 'rxjs';
import { missingReference } from '../database/postgres-errors.js';
import type { RequestWithPrincipal } from './access-policy.js';
import type { AuthenticatedUser } from './principal.js';
import { UserProvisioning } from './user-provisioning.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A user deleted through another instance is still remembered by this one, which hands out its old id: a write then
 * fails on the foreign key to users. This forgets the user, provisions it again and runs the handler once more with
 * the new id (in a new transaction: the failed one rolled back), so the request succeeds.
 */
@Injectable()
export class DeletedUserInterceptor implements NestInterceptor {
  constructor(private readonly users: UserProvisioning) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const caller = request.principal;
    // Only a write can fail on the foreign key.
    if (caller?.kind !== 'user' || !('userId' in caller) || READS.has(request.method)) return next.handle();
    return next.handle().pipe(
      catchError((error: unknown) => {
        const missing = missingReference(error);
        if (missing?.table !== 'users' || missing.key !== caller.userId) throw error;
        return from(this.provisionAgain(request, caller)).pipe(switchMap(() => next.handle()));
      }),
    );
  }

  private async provisionAgain(request: RequestWithPrincipal, caller: AuthenticatedUser): Promise<void> {
    this.users.forget(caller.sub);
    request.principal = { ...caller, userId: await this.users.userIdFor(caller) };
  }
}
