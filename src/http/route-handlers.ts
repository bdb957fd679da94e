import { RequestMethod, type ModuleMetadata, type Type } from '@nestjs/common';
import { METHOD_METADATA } from '@nestjs/common/constants';

type ModuleEntry = NonNullable<ModuleMetadata['imports']>[number];

/**
 * The methods the API's routes answer: what a CORS preflight allows and what a 405's `Allow` is drawn from. A route of
 * another method needs it added here (a test checks).
 */
export const API_METHODS = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'] as const;

const READS: ReadonlySet<RequestMethod> = new Set([
  RequestMethod.GET,
  RequestMethod.HEAD,
  RequestMethod.OPTIONS,
]);

/** The route handlers a controller declares (the methods under `@Get()`, `@Post()`…), with their HTTP method. */
export function routeHandlers(controller: Type): { handler: object; method: RequestMethod }[] {
  const handlers: { handler: object; method: RequestMethod }[] = [];
  for (let prototype = controller.prototype as object; prototype !== Object.prototype;) {
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = Object.getOwnPropertyDescriptor(prototype, name)?.value as unknown;
      if (typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method !== undefined) handlers.push({ handler, method });
    }
    prototype = Object.getPrototypeOf(prototype) as object;
  }
  return handlers;
}

/** True for a route that may change something: every method but GET, HEAD and OPTIONS. */
export function isWrite(method: RequestMethod): boolean {
  return !READS.has(method);
}

/** The controllers of `modules` and of everything they import, each once. */
export function controllersOf(modules: readonly ModuleEntry[]): Type[] {
  const seen = new Set<unknown>();
  const controllers = new Set<Type>();
  const visit = (entry: ModuleEntry) => {
    if (!entry || seen.has(entry) || entry instanceof Promise || 'forwardRef' in entry) return;
    seen.add(entry);
    const dynamic = 'module' in entry ? entry : undefined;
    const moduleClass = dynamic?.module ?? (entry as Type);
    const metadata = (key: 'controllers' | 'imports') => [
      ...((Reflect.getMetadata(key, moduleClass) as unknown[] | undefined) ?? []),
      ...((dynamic?.[key] as unknown[] | undefined) ?? []),
    ];
    for (const controller of metadata('controllers')) controllers.add(controller as Type);
    for (const imported of metadata('imports')) visit(imported as ModuleEntry);
  };
  modules.forEach(visit);
  return [...controllers];
}
