import { RequestMethod, type INestApplication, type Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants';
import { ModulesContainer } from '@nestjs/core';
import { routeHandlers } from '../../src/http/route-handlers.js';

export interface AppRoute {
  method: string;
  /** Path in OpenAPI form: `/v1/projects/{id}`. */
  path: string;
  controller: object;
  handler: object;
}

/** Every route the app's controllers declare, read from Nest's own routing metadata. */
export function listRoutes(app: INestApplication): AppRoute[] {
  const routes: AppRoute[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype;
      if (!controller) continue;
      const prefixes = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, controller) ?? '/');
      for (const { handler, method } of routeHandlers(controller as Type)) {
        const paths = ([] as string[]).concat(Reflect.getMetadata(PATH_METADATA, handler) ?? '/');
        for (const prefix of prefixes) {
          for (const path of paths) {
            const full = `/${[prefix, path].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
            routes.push({
              method: RequestMethod[method],
              path: full.replace(/:(\w+)/g, '{$1}'),
              controller,
              handler,
            });
          }
        }
      }
    }
  }
  return routes;
}
