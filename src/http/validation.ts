import {
  ParseUUIDPipe,
  ValidationPipe,
  type ArgumentMetadata,
  type Type,
  type ValidationError,
} from '@nestjs/common';
import { PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ValidateIf } from 'class-validator';
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

/** A route that declares a body DTO answers a request without one with 400, pointing at the whole document. */
class BodyRequiredValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && value === undefined && metadata.metatype && this.toValidate(metadata)) {
      throw invalid([{ pointer: '', detail: 'A JSON request body is required.' }]);
    }
    return super.transform(value, metadata);
  }
}

function invalid(errors: FieldError[]): ProblemException {
  return new ProblemException(400, {
    type: PROBLEM_TYPES.validation,
    detail: 'The request is invalid; see errors.',
    extensions: { errors },
  });
}

export function fieldErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const pointer = `${parent}/${String(error.property).replaceAll('~', '~0').replaceAll('/', '~1')}`;
    const own = Object.values(error.constraints ?? {}).map((detail) => ({ pointer, detail }));
    return [...own, ...fieldErrors(error.children ?? [], pointer)];
  });
}

/** The field may be absent, but not null (class-validator's @IsOptional lets null through). */
export const Optional = () => ValidateIf((_object, value) => value !== undefined);

/** Surrounding white space is dropped before validation. */
export const Trim = () =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** A PATCH body: every field of `base` optional, but none may be null, and nothing else is accepted. */
export const StrictPartialType = <T>(base: Type<T>) => PartialType(base, { skipNullProperties: false });

/** Path ids are UUIDs; anything else is a 400 (never a 404 or a database error). */
export const ParseId = new ParseUUIDPipe({ errorHttpStatusCode: 400 });

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
