import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { RequestWithPrincipal } from '../../auth/access-policy.js';
import { ProblemException } from '../problem.js';
import { IdempotencyService, principalKey } from './idempotency.service.js';

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** On an answer that is not a new creation but the one a request before made. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
const ACCEPTABLE_KEY = /^[\x21-\x7e]{1,255}$/;
/**
 * For a creating POST: an `Idempotency-Key` header makes retries safe (see IdempotencyService). Response headers
 * derived from the body (ETag, Location) are set by `@ResourceHeaders()` as the body is sent, on replays too.
 */
export const Idempotent = () =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description: 'Makes retries safe for 24 h',
      schema: { type: 'string', pattern: ACCEPTABLE_KEY.source, minLength: 1, maxLength: 255 },
    }),
  );

@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly idempotency: IdempotencyService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const handler = context.getHandler();
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (key === undefined) return next.handle();
    if (typeof key !== 'string' || !ACCEPTABLE_KEY.test(key)) {
      throw new ProblemException(400, {
        detail: 'Idempotency-Key must be 1 to 255 visible ASCII characters.',
      });
    }
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const principal = request.principal!;
    const status = this.reflector.get<number>(HTTP_CODE_METADATA, handler) ?? HttpStatus.CREATED;

    return from(
      this.idempotency
        .run(
          {
            principal: principalKey(principal),
            route: `${request.method} ${request.routeOptions.url}`,
            key,
            // The concrete path too: on a route with parameters, the same key and body may target another resource.
            body: [request.url, request.body],
          },
          async () => ({
            status,
            body: (await lastValueFrom(next.handle(), { defaultValue: undefined })) as unknown,
          }),
        )
        .then(({ replayed, response }) => {
          if (replayed) void reply.header(IDEMPOTENT_REPLAYED_HEADER, 'true');
          return response.body;
        }),
    );
  }
}
