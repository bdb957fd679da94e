import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import { INTERCEPTORS_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { ApplicationConfig } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { DeletedUserInterceptor } from '../../src/auth/deleted-user.interceptor.js';
import { refuseBody } from '../../src/http/no-input.js';
import { useTestApp } from '../support/app.js';
import { listRoutes } from '../support/routes.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Nest runs an interceptor chain (rxjs, an async resource per layer) for a route with any interceptor at all, and it
 * cost a read ≈ 10–20 % of its CPU (bench/README.md): reads have none, writes only what they need.
 */
describe('request pipeline', () => {
  const t = useTestApp();

  const interceptorsOf = (route: { controller: object; handler: object }): unknown[] => [
    ...((Reflect.getMetadata(INTERCEPTORS_METADATA, route.controller) as unknown[] | undefined) ?? []),
    ...((Reflect.getMetadata(INTERCEPTORS_METADATA, route.handler) as unknown[] | undefined) ?? []),
  ];

  it('has no global interceptor, and none on any read', () => {
    expect(t.app.get(ApplicationConfig).getGlobalInterceptors()).toEqual([]);
    const reads = listRoutes(t.app).filter((route) => READS.has(route.method));
    expect(reads.length).toBeGreaterThan(10);
    const intercepted = reads
      .filter((route) => interceptorsOf(route).length > 0)
      .map(({ method, path }) => `${method} ${path}`);
    expect(intercepted).toEqual([]);
  });

  it('retries every write for a user deleted through another instance, outermost', () => {
    const writes = listRoutes(t.app).filter((route) => !READS.has(route.method));
    expect(writes.length).toBeGreaterThan(5);
    const missing = writes
      .filter((route) => interceptorsOf(route)[0] !== DeletedUserInterceptor)
      .map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });

  it('has every write declare the body it takes, or that it takes none', () => {
    const declaresBody = ({ controller, handler }: { controller: object; handler: object }) =>
      Object.entries(
        (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, (handler as () => void).name) ?? {}) as Record<
          string,
          { factory?: unknown }
        >,
      ).some(([key, arg]) => key.startsWith(`${RouteParamtypes.BODY}:`) || arg.factory === refuseBody);
    const undeclared = listRoutes(t.app)
      .filter((route) => !READS.has(route.method) && !declaresBody(route))
      .map(({ method, path }) => `${method} ${path}`);
    expect(undeclared).toEqual([]);
  });
});
