import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';

/** This route's own limit on the request body (413 above it), instead of HTTP_BODY_LIMIT_BYTES. */
export const BodyLimit = (bytes: number) => RouteConfig({ bodyLimit: bytes });

/** Makes {@link BodyLimit} take effect; call before the routes are registered. */
export function applyRouteBodyLimits(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    const limit = (route.config as { bodyLimit?: number } | undefined)?.bodyLimit;
    if (limit !== undefined) route.bodyLimit = limit;
  });
}
