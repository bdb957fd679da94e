import { CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';
import { etagOf } from './preconditions.js';
import { pathOf } from './request.js';

/**
 * Resource responses carry their validators: `ETag` when the body has a `version`, and `Location` when a POST
 * created one (201 with an `id`).
 */
@Injectable()
export class ResourceHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    return next.handle().pipe(
      map((body: unknown) => {
        if (body !== null && typeof body === 'object') {
          const { version, id } = body as { version?: unknown; id?: unknown };
          if (Number.isInteger(version)) void reply.header('etag', etagOf(version as number));
          if (request.method === 'POST' && reply.statusCode === 201 && typeof id === 'string') {
            void reply.header('location', `${pathOf(request.url)}/${id}`);
          }
        }
        return body;
      }),
    );
  }
}

/** On a resource controller: ETag from `version`, Location for what a POST created. */
export const ResourceHeaders = () => UseInterceptors(ResourceHeadersInterceptor);
