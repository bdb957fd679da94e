/** Routes that take no input of a kind: what a client sends there anyway is refused, not silently ignored. */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ProblemException } from './problem.js';
import { invalid, pointerOf } from './validation.js';

/** 400 naming each of `names` as a member the request should not have sent. */
function unexpected(names: string[]): ProblemException {
  return invalid(
    names.map((name) => ({ pointer: pointerOf([name]), detail: `property ${name} should not exist` })),
  );
}

/**
 * For a report that takes no parameters, where a caller may expect some (a range): any query parameter is 400, so
 * that `?from=` is not silently answered for the default period.
 */
export const NoQuery = createParamDecorator((_data: unknown, context: ExecutionContext): void => {
  const names = Object.keys(context.switchToHttp().getRequest<FastifyRequest>().query ?? {});
  if (names.length > 0) throw unexpected(names);
});

/** What `@NoBody()` runs: exported so that a test can tell every write declares its body, or that it takes none. */
export function refuseBody(_data: unknown, context: ExecutionContext): void {
  const body = context.switchToHttp().getRequest<FastifyRequest>().body;
  if (body === undefined || body === null) return;
  if (typeof body !== 'object' || Array.isArray(body))
    throw invalid([{ pointer: '', detail: 'This request takes no body.' }]);
  const names = Object.keys(body);
  if (names.length > 0) throw unexpected(names);
}

/**
 * For a write that takes no body: one with members is 400, each named, as a DTO refuses fields it does not declare,
 * so that a client sending `{"reason": …}` learns it is not read. No body, or `{}` (what some clients always send), is
 * none.
 */
export const NoBody = createParamDecorator(refuseBody);
