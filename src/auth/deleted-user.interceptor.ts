import {
  Injectable,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type Type,
} from '@nestjs/common';
import { INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { catchError, from, switchMap, type Observable } from 'rxjs';
import { missingReference } from '../database/postgres-errors.js';
import { isWrite, routeHandlers } from '../http/route-handlers.js';
import type { RequestWithPrincipal } from './access-policy.js';
import type { AuthenticatedUser } from './principal.js';
import { UserProvisioning } from './user-provisioning.js';

/**
 * A user deleted through another instance is still remembered by this one, which hands out its old id: a write then
 * fails on the foreign key to users. This forgets the user, provisions it again and runs the handler once more with
 * the new id (in a new transaction: the failed one rolled back), so the request succeeds. Only on write routes: see
 * {@link retryWritesOfDeletedUsers}.
 */
@Injectable()
export class DeletedUserInterceptor implements NestInterceptor {
  constructor(private readonly users: UserProvisioning) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const caller = request.principal;
    if (caller?.kind !== 'user' || !('userId' in caller)) return next.handle();
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

/**
 * Puts {@link DeletedUserInterceptor} on every write route of `controllers`, before Nest reads their metadata: only a
 * write can fail on the foreign key, and a read then runs no interceptor at all. Nest's interceptor chain (rxjs, an
 * async resource per layer) was ≈ 10–20 % of the CPU of `GET /v1/projects/:id` (bench/README.md).
 */
export function retryWritesOfDeletedUsers(controllers: readonly Type[]): void {
  for (const controller of controllers) {
    for (const { handler, method } of routeHandlers(controller)) {
      const interceptors =
        (Reflect.getMetadata(INTERCEPTORS_METADATA, handler) as unknown[] | undefined) ?? [];
      if (isWrite(method) && !interceptors.includes(DeletedUserInterceptor)) {
        Reflect.defineMetadata(INTERCEPTORS_METADATA, [DeletedUserInterceptor, ...interceptors], handler);
      }
    }
  }
}
