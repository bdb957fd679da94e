import { CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { map, type Observable } from 'rxjs';

/** A strong entity tag from a row's version column. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * What an `If-Match` header asks for: undefined (absent: unconditional), 'any' (`*`), or the versions it names.
 * Weak tags never match (RFC 9110 §13.1.1 compares strongly); a header naming no usable tag matches nothing.
 */
export function ifMatchVersions(header: string | undefined): undefined | 'any' | number[] {
  if (header === undefined) return undefined;
  if (header.trim() === '*') return 'any';
  return header
    .split(',')
    .map((tag) => /^"(\d{1,9})"$/.exec(tag.trim())?.[1])
    .filter((version): version is string => version !== undefined)
    .map(Number);
}

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
          if (request.method === 'POST' && typeof id === 'string') {
            void reply.header('location', `${request.url.split('?')[0]}/${id}`);
          }
        }
        return body;
      }),
    );
  }
}

/** On a resource controller: ETag from `version`, Location for what a POST created. */
export const ResourceHeaders = () => UseInterceptors(ResourceHeadersInterceptor);
