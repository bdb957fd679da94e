import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { normalizeIP } from '@fastify/rate-limit';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { ProblemException } from '../http/problem.js';
import type { RequestWithPrincipal } from './access-policy.js';

export type Budget = 'read' | 'write' | 'ingest';
type Checker = ReturnType<FastifyInstance['createRateLimit']>;

const RATE_LIMIT = 'runway:rateLimit';
const WINDOW_SECONDS = 60;
/** RFC 9457 problem type registered for quota errors (draft-ietf-httpapi-ratelimit-headers). */
export const QUOTA_EXCEEDED = 'https://iana.org/assignments/http-problem-types#quota-exceeded';

/** The budget a route draws from (by default `read` for GET and HEAD, `write` otherwise); `false`: not limited. */
export const RateLimit = (budget: Budget | false) => SetMetadata(RATE_LIMIT, budget);

/** The budget of a route (its handler, its controller class and its HTTP method), from its `@RateLimit` or its method. */
export function routeBudget(handler: object, controller: object, method: string): Budget | false {
  const declared = [handler, controller]
    .map((target) => Reflect.getMetadata(RATE_LIMIT, target) as Budget | false | undefined)
    .find((budget) => budget !== undefined);
  return declared ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write');
}

/**
 * Per-caller rate limits, after authentication: a user by their `sub`, a machine client by its client id, anyone
 * else by IP. Each budget is a fixed one-minute window counted in this process by @fastify/rate-limit's store.
 * Every limited answer carries `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers); over the
 * budget the answer is 429 problem+json with `Retry-After`.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  private checkers?: Partial<Record<Budget, Checker>>;
  private readonly budgets = new WeakMap<object, Budget | false>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<RequestWithPrincipal>();
    const budget = this.budgetOf(context, request.method);
    const checker = budget && this.checkerFor(budget);
    if (!budget || !checker) return true;

    const result = await checker(request);
    if (result.isAllowed) return true;
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    void reply.header('ratelimit-policy', `"${budget}";q=${result.max};w=${WINDOW_SECONDS}`);
    void reply.header('ratelimit', `"${budget}";r=${result.remaining};t=${result.ttlInSeconds}`);
    if (result.isExceeded) {
      throw new ProblemException(429, {
        type: QUOTA_EXCEEDED,
        detail: `Too many ${budget} requests: at most ${result.max} a minute; retry in ${result.ttlInSeconds} s.`,
        headers: { 'retry-after': String(result.ttlInSeconds) },
        extensions: { 'violated-policies': [budget] },
      });
    }
    return true;
  }

  /** The route's budget, looked up once per handler and method (this runs on every request). */
  private budgetOf(context: ExecutionContext, method: string): Budget | false {
    const handler = context.getHandler();
    let budget = this.budgets.get(handler);
    if (budget === undefined) {
      budget = routeBudget(handler, context.getClass(), method);
      this.budgets.set(handler, budget);
    }
    return budget;
  }

  /** Made on first use: the plugin decorates Fastify once the app is ready. Undefined for a budget turned off. */
  private checkerFor(budget: Budget): Checker | undefined {
    this.checkers ??= this.createCheckers();
    return this.checkers[budget];
  }

  private createCheckers(): Partial<Record<Budget, Checker>> {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const checkers: Partial<Record<Budget, Checker>> = {};
    for (const [budget, max] of Object.entries(this.config.http.rateLimits) as [Budget, number][]) {
      if (max === 0) continue;
      checkers[budget] = fastify.createRateLimit({
        max,
        timeWindow: WINDOW_SECONDS * 1000,
        keyGenerator: (request) => callerKey(request),
      });
    }
    return checkers;
  }
}

function callerKey(request: RequestWithPrincipal): string {
  const caller = request.principal;
  // An IPv6 client holds a whole /64: counted as one, as @fastify/rate-limit's own key does.
  if (!caller) return `ip:${normalizeIP(request.ip)}`;
  return caller.kind === 'user' ? `user:${caller.sub}` : `client:${caller.clientId || caller.sub}`;
}
