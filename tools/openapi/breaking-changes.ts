import type { OpenAPIObject } from '@nestjs/swagger';

interface Schema {
  $ref?: string;
  type?: string | string[];
  nullable?: boolean;
  maximum?: number;
  minimum?: number;
  maxLength?: number;
  minLength?: number;
  maxItems?: number;
  minItems?: number;
  pattern?: string;
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
}
interface Content {
  content?: Record<string, { schema?: Schema }>;
}
interface Operation {
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: Content & { required?: boolean };
  responses?: Record<string, Content>;
}
type Side = 'request' | 'response';
const BOTH: Side[] = ['request', 'response'];

/**
 * What `after` changes of `before` that a client written against `before` may rely on: an operation, parameter,
 * schema, field or success status gone; a parameter, request body or request field newly required; a value of a
 * request refused (an enum's value gone or an enum where there was none, tighter bounds, another pattern or format,
 * null or one of its types no longer taken); a type changed, or a response's widened (`string` to `string | integer`);
 * a response's body type gone; a response field no longer required or now nullable. Schemas are compared wherever they are: components (as requests or responses use
 * them), parameters, bodies, nested.
 */
export function breakingChanges(before: OpenAPIObject, after: OpenAPIObject): string[] {
  const changes = new Set<string>();
  const [oldPaths, newPaths] = [
    before.paths as Record<string, Record<string, Operation>>,
    after.paths as Record<string, Record<string, Operation>>,
  ];
  const [oldSchemas, newSchemas] = [schemasOf(before), schemasOf(after)];
  const sides = new Map<string, Set<Side>>();
  const use = (schema: Schema | undefined, side: Side) => {
    for (const name of refsIn(schema, oldSchemas)) sides.set(name, (sides.get(name) ?? new Set()).add(side));
  };
  /** `at`: a component's name, or where an inline schema is (`the 200 response of GET /v1/things`). */
  const compare = (
    was: Schema | undefined,
    now: Schema | undefined,
    at: Place,
    on: Side[],
    seen = new Set<string>(),
  ) => {
    if (!was || !now) return;
    if (on.includes('response') && !nullable(was) && nullable(now))
      changes.add(`${label(at)} may now be null`);
    if (on.includes('request') && nullable(was) && !nullable(now))
      changes.add(`${label(at)} no longer takes null`);
    const [wasRef, nowRef] = [componentOf(was), componentOf(now)];
    if (wasRef !== undefined || nowRef !== undefined) {
      // One component for another, or for an inline schema: compared here, where it is. The same component is
      // compared by name, below.
      const pair = `${wasRef} ${nowRef}`;
      if (wasRef === nowRef || seen.has(pair)) return;
      const [before, after] = [wasRef ? oldSchemas[wasRef] : was, nowRef ? newSchemas[nowRef] : now];
      return compare(before, after, at, on, new Set(seen).add(pair));
    }
    for (const value of was.enum ?? []) {
      if (on.includes('request') && now.enum && !now.enum.includes(value))
        changes.add(`removed value ${JSON.stringify(value)} of ${label(at)}`);
    }
    const [types, newTypes] = [typesOf(was), typesOf(now)];
    if (types.length > 0 && newTypes.length > 0) {
      if (!types.some((type) => newTypes.includes(type)))
        changes.add(`${label(at)} is now ${newTypes.join(' or ')}, not ${types.join(' or ')}`);
      else {
        if (on.includes('response'))
          for (const type of newTypes.filter((type) => !types.includes(type)))
            changes.add(`${label(at)} may now be ${type}`);
        if (on.includes('request'))
          for (const type of types.filter((type) => !newTypes.includes(type)))
            changes.add(`${label(at)} no longer takes ${type}`);
      }
    }
    if (on.includes('request')) {
      if (now.enum && !was.enum)
        changes.add(
          `${label(at)} now takes only ${now.enum.map((value) => JSON.stringify(value)).join(', ')}`,
        );
      if (now.format !== undefined && now.format !== was.format)
        changes.add(`${label(at)} takes another format (${now.format})`);
      for (const bound of ['maximum', 'maxLength', 'maxItems'] as const) {
        if (now[bound] !== undefined && (was[bound] === undefined || now[bound] < was[bound]))
          changes.add(`${label(at)} takes a lower ${bound} (${now[bound]})`);
      }
      for (const bound of ['minimum', 'minLength', 'minItems'] as const) {
        if (now[bound] !== undefined && (was[bound] === undefined || now[bound] > was[bound]))
          changes.add(`${label(at)} takes a higher ${bound} (${now[bound]})`);
      }
      if (now.pattern !== undefined && now.pattern !== was.pattern)
        changes.add(`${label(at)} takes another pattern (${now.pattern})`);
    }
    for (const [field, schema] of Object.entries(was.properties ?? {})) {
      const inner = { ...at, path: [...at.path, field] };
      const kept = now.properties?.[field];
      if (!kept) {
        changes.add(`removed field ${label(inner)}`);
        continue;
      }
      if (on.includes('response') && was.required?.includes(field) && !now.required?.includes(field))
        changes.add(`field ${label(inner)} may now be missing`);
      compare(schema, kept, inner, on, seen);
    }
    for (const field of now.required ?? []) {
      if (on.includes('request') && !was.required?.includes(field))
        changes.add(`newly required field ${label({ ...at, path: [...at.path, field] })}`);
    }
    compare(was.items, now.items, { ...at, path: [...at.path, '[]'] }, on, seen);
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      (was[key] ?? []).forEach((part, index) => compare(part, now[key]?.[index], at, on, seen));
    }
  };

  for (const [path, operations] of Object.entries(oldPaths)) {
    for (const [method, was] of Object.entries(operations)) {
      const name = `${method.toUpperCase()} ${path}`;
      const now = newPaths[path]?.[method];
      for (const parameter of was.parameters ?? []) use(parameter.schema, 'request');
      for (const media of Object.values(was.requestBody?.content ?? {})) use(media.schema, 'request');
      for (const response of Object.values(was.responses ?? {}))
        for (const media of Object.values(response.content ?? {})) use(media.schema, 'response');
      if (!now) {
        changes.add(`removed operation ${name}`);
        continue;
      }
      for (const parameter of was.parameters ?? []) {
        const kept = now.parameters?.find((p) => p.name === parameter.name && p.in === parameter.in);
        const where = `${parameter.in} parameter ${parameter.name} of ${name}`;
        if (!kept) changes.add(`removed ${where}`);
        else compare(parameter.schema, kept.schema, inline(where), ['request']);
      }
      for (const parameter of now.parameters ?? []) {
        const had = was.parameters?.find((p) => p.name === parameter.name && p.in === parameter.in);
        if (parameter.required && !had?.required)
          changes.add(`newly required ${parameter.in} parameter ${parameter.name} of ${name}`);
      }
      if (now.requestBody?.required && !was.requestBody?.required)
        changes.add(`newly required body of ${name}`);
      for (const [type, media] of Object.entries(was.requestBody?.content ?? {})) {
        const kept = now.requestBody?.content?.[type];
        if (!kept) changes.add(`removed request body type ${type} of ${name}`);
        else compare(media.schema, kept.schema, inline(`the body of ${name}`), ['request']);
      }
      for (const [status, response] of Object.entries(was.responses ?? {})) {
        const kept = now.responses?.[status];
        if (!kept) {
          if (status.startsWith('2')) changes.add(`removed ${status} response of ${name}`);
          continue;
        }
        for (const [type, media] of Object.entries(response.content ?? {})) {
          const body = kept.content?.[type];
          if (!body) changes.add(`removed ${type} body of the ${status} response of ${name}`);
          else compare(media.schema, body.schema, inline(`the ${status} response of ${name}`), ['response']);
        }
      }
    }
  }
  for (const [name, schema] of Object.entries(oldSchemas)) {
    if (!newSchemas[name]) changes.add(`removed schema ${name}`);
    // A schema no operation uses may be used by clients in any way.
    else compare(schema, newSchemas[name], { component: name, path: [] }, [...(sides.get(name) ?? BOTH)]);
  }
  return [...changes];
}

/** A schema's place: in a component (`Thing.name`), or inline (`nextCursor in the 200 response of GET /v1/things`). */
type Place = { component: string; path: string[] } | { inline: string; path: string[] };
const inline = (where: string): Place => ({ inline: where, path: [] });

function label(place: Place): string {
  const path = place.path.join('.').replaceAll('.[]', '[]');
  if ('component' in place) return path ? `${place.component}.${path}` : place.component;
  return path ? `${path} in ${place.inline}` : place.inline;
}

function schemasOf(document: OpenAPIObject): Record<string, Schema> {
  return document.components?.schemas ?? {};
}

/**
 * The component a schema is, by its name: a reference, or one wrapped to add a description (`allOf: [ref]`) or null
 * (`oneOf: [ref, {type: 'null'}]`), as Nest writes them.
 */
function componentOf(schema: Schema): string | undefined {
  const parts = [...(schema.allOf ?? []), ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].filter(
    (part) => part.type !== 'null',
  );
  const reference =
    schema.$ref ??
    (parts.length === 1 && !schema.properties && typesOf(schema).length === 0 ? parts[0]!.$ref : undefined);
  return reference?.split('/').at(-1);
}

/** The types a schema names, or its union's parts name, but `null` (see {@link nullable}). */
function typesOf(schema: Schema): string[] {
  const parts = schema.type === undefined ? [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])] : [schema];
  return [...new Set(parts.flatMap((part) => [part.type ?? []].flat()))].filter((type) => type !== 'null');
}

function nullable(schema: Schema): boolean {
  const types = [schema.type ?? []].flat();
  return (
    schema.nullable === true ||
    types.includes('null') ||
    [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].some((part) => part.type === 'null')
  );
}

/** The component schemas `schema` refers to, directly or through others. */
function refsIn(
  schema: Schema | undefined,
  components: Record<string, Schema>,
  found = new Set<string>(),
): Set<string> {
  if (!schema || typeof schema !== 'object') return found;
  if (schema.$ref) {
    const name = schema.$ref.split('/').at(-1)!;
    if (!found.has(name)) refsIn(components[name], components, found.add(name));
    return found;
  }
  for (const value of Object.values(schema)) {
    for (const child of [value].flat()) {
      if (child && typeof child === 'object') refsIn(child as Schema, components, found);
    }
  }
  return found;
}
