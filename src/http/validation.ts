import {
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
  type PipeTransform,
  ValidationPipe,
  type ArgumentMetadata,
  type Type,
  type ValidationError,
} from '@nestjs/common';
import { ApiParam, PartialType } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { plainToInstance, Transform } from 'class-transformer';
import { Matches, ValidateIf } from 'class-validator';
import { PROBLEM_TYPES, ProblemException } from './problem.js';

export interface FieldError {
  /** JSON Pointer (RFC 6901) to the offending member of the request body or query. */
  pointer: string;
  detail: string;
}

/** The global pipe: DTOs are whitelists; unknown fields are rejected rather than silently dropped. */
export function createValidationPipe(): ValidationPipe {
  return new BodyRequiredValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => invalid(fieldErrors(errors)),
  });
}

/**
 * Two gaps of class-validator's whitelist closed: a route that declares a body DTO answers a request without one with
 * 400 (pointing at the whole document), and fields named like `Object.prototype` members (`constructor`, `toString`,
 * `__defineGetter__`, …), which it mistakes for declared ones, are refused like any other unknown field of a DTO, and
 * kept as sent in a free-form map such as a task's payload, from which class-transformer would drop them.
 */
class BodyRequiredValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (!metadata.metatype || !this.toValidate(metadata)) return super.transform(value, metadata);
    if (metadata.type === 'body' && (value === undefined || value === null)) {
      throw invalid([{ pointer: '', detail: 'A JSON request body is required.' }]);
    }
    if (metadata.type === 'body' && !isObject(value)) {
      throw invalid([{ pointer: '', detail: 'The body must be a JSON object.' }]);
    }
    // Transforming and validating take time that grows faster than the members: refuse at once what no DTO holds.
    if (membersBeyond(value, MAX_MEMBERS) > MAX_MEMBERS) {
      throw invalid([{ pointer: '', detail: `The document has more than ${MAX_MEMBERS} members.` }]);
    }
    // Found and copied before validation, which drops some of them (`constructor`) from the value itself.
    const suspects = prototypeNamedPaths(value, []);
    const suspectValues = suspects.map((path) => structuredClone(valueAt(value, path)));
    let instance: unknown;
    let failure: ProblemException | undefined;
    try {
      instance = await super.transform(value, metadata);
    } catch (error) {
      if (!(error instanceof ProblemException) || suspects.length === 0) throw error;
      // Listed with the other errors: the DTOs they sit in, from the value as the pipe transforms it.
      failure = error;
      instance = plainToInstance(metadata.metatype, value);
    }
    const listed = (failure?.problem.extensions?.errors ?? []) as FieldError[];
    const unknown = suspects
      .map((path) => ({ path, pointer: pointerOf(path) }))
      .filter(
        ({ path, pointer }) => isDto(parentOf(instance, path)) && !listed.some((e) => e.pointer === pointer),
      )
      .map(({ path, pointer }) => ({ pointer, detail: `property ${path.at(-1)} should not exist` }));
    if (unknown.length > 0) throw invalid([...listed, ...unknown]);
    if (failure) throw failure;
    for (const [index, path] of suspects.entries()) {
      const parent = parentOf(instance, path);
      if (isMap(parent)) {
        Object.defineProperty(parent, path.at(-1)!, {
          value: suspectValues[index],
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
    }
    return instance;
  }
}

/** More than any valid body holds: a task's payload, the largest, fits 8,192 in its 16 KiB (`[0,0,…]`). */
const MAX_MEMBERS = 10_000;

/** Object members and array elements at any depth, counted until there are more than `limit`. */
function membersBeyond(value: unknown, limit: number, counted = 0): number {
  if (value === null || typeof value !== 'object') return counted;
  for (const child of Object.values(value)) {
    counted = membersBeyond(child, limit, counted + 1);
    if (counted > limit) break;
  }
  return counted;
}

const PROTOTYPE_NAMES = new Set(Object.getOwnPropertyNames(Object.prototype));

/** Paths of every field named like an Object.prototype member, at any depth. */
function prototypeNamedPaths(value: unknown, path: string[]): string[][] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, child]) => [
    ...(PROTOTYPE_NAMES.has(key) && !Array.isArray(value) ? [[...path, key]] : []),
    ...prototypeNamedPaths(child, [...path, key]),
  ]);
}

function parentOf(root: unknown, path: string[]): unknown {
  return valueAt(root, path.slice(0, -1));
}

function valueAt(root: unknown, path: string[]): unknown {
  return path.reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], root);
}

/** A validated DTO, as opposed to a free-form map (a plain object) that may hold any key. */
function isDto(node: unknown): boolean {
  return isObject(node) && Object.getPrototypeOf(node) !== Object.prototype;
}

function isMap(node: unknown): node is object {
  return isObject(node) && Object.getPrototypeOf(node) === Object.prototype;
}

function isObject(node: unknown): node is object {
  return node !== null && typeof node === 'object' && !Array.isArray(node);
}

export function pointerOf(path: string[]): string {
  return path.map((key) => `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Listing more errors than this helps no one, and would make the answer larger than the request. */
const MAX_ERRORS = 100;

/**
 * 400 problem+json listing `errors` (the first 100), the answer to every invalid request; 422 for a request valid in
 * form that the app's state refuses, field by field.
 */
export function invalid(
  errors: FieldError[],
  { status = 400, detail = 'The request is invalid; see errors.' } = {},
): ProblemException {
  return new ProblemException(status, {
    type: PROBLEM_TYPES.validation,
    detail,
    extensions: { errors: errors.slice(0, MAX_ERRORS) },
  });
}

/** Constraints on a value's type: when one fails, the others (ranges, lengths, patterns) fail with it and say nothing. */
const TYPE_CHECKS = new Set(['isInt', 'isNumber', 'isString', 'isBoolean', 'isArray', 'isObject']);

export function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const pointer = `${parent}${pointerOf([String(error.property)])}`;
    const failed = Object.entries(error.constraints ?? {});
    const typeFailed = failed.filter(([name]) => TYPE_CHECKS.has(name));
    const own = (typeFailed.length > 0 ? typeFailed : failed).map(([, detail]) => ({ pointer, detail }));
    return [...own, ...fieldErrors(error.children ?? [], pointer)];
  });
}

/** A filter given empty (`?q=`) is one not given, as a cleared search box means. */
export const EmptyIsAbsent = () =>
  Transform(({ value }: { value: unknown }) => (value === '' ? undefined : value));

/** The field may be absent, but not null (class-validator's @IsOptional lets null through). */
export const Optional = () => ValidateIf((_object, value) => value !== undefined);

/**
 * A PATCH body: every field of `base` optional, but none may be null, and nothing else is accepted. A field left out
 * stays as it is, so the document names none of `base`'s defaults (a client filling them in would reset the field).
 */
export function StrictPartialType<T>(base: Type<T>): Type<Partial<T>> {
  const partial = PartialType(base, { skipNullProperties: false });
  const prototype = partial.prototype as object;
  // @nestjs/swagger's metadata keys (not exported; test/api/openapi.spec.ts fails if they change): its decorators
  // merge what they are given into what is there, so none can take a default away.
  const fields = (Reflect.getMetadata('swagger/apiModelPropertiesArray', prototype) ?? []) as string[];
  for (const field of fields.map((name) => name.replace(/^:/, ''))) {
    const property = Reflect.getMetadata('swagger/apiModelProperties', prototype, field) as object;
    const { default: _default, ...kept } = property as { default?: unknown };
    Reflect.defineMetadata('swagger/apiModelProperties', kept, prototype, field);
  }
  return partial;
}

/**
 * Path ids are UUIDs; anything else is a 400 naming `/id` (never a 404 or a database error). Taken in either case,
 * passed on in lowercase, as PostgreSQL writes a `uuid`: an id the app stores as text (audit targets) is then spelled
 * one way.
 */
const ParseId: PipeTransform<unknown, string> = {
  transform: (value) => {
    const id = typeof value === 'string' ? value.toLowerCase() : '';
    if (!isUuid(id)) throw invalid([{ pointer: '/id', detail: 'id must be a UUID' }]);
    return id;
  },
};

const IdParam = createParamDecorator(
  (_data: unknown, context: ExecutionContext) =>
    context.switchToHttp().getRequest<FastifyRequest<{ Params: { id: string } }>>().params.id,
  [
    (target, key) =>
      ApiParam({ name: 'id', schema: { type: 'string', format: 'uuid' } })(
        target,
        key!,
        Object.getOwnPropertyDescriptor(target, key!)!,
      ),
  ],
);

/** The `:id` of the path, a UUID (400 otherwise), documented as one. */
export const PathId = () => IdParam(undefined, ParseId);

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isUuid = (text: string): boolean => UUID_PATTERN.test(text);

/** A field that may hold a UUID (among other ids): a UUID in lowercase, as path ids are, anything else as sent. */
export const LowerCaseUuid = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && isUuid(value.toLowerCase()) ? value.toLowerCase() : value,
  );

/** A field that holds a UUID, checked as path ids are (any version), in either case and passed on in lowercase. */
export const IsId = () =>
  applyDecorators(LowerCaseUuid(), Matches(UUID_PATTERN, { message: '$property must be a UUID' }));
