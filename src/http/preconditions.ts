import { applyDecorators, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { versionMatches, type ExpectedVersion } from '../database/versioning.js';
import { notFound, ProblemException } from './problem.js';

/** A strong entity tag from a row's version column. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** Entity tags (RFC 9110 §8.8.3: `"3"`, `W/"3"`, whose quotes may hold commas); a list's empty elements are allowed. */
const TAG = String.raw`(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"`;
// Each space has one place to go (before or after a tag, never both), so a list that fails is refused in linear time.
const ENTITY_TAG_LIST = new RegExp(String.raw`^(?:[ \t]*(?:${TAG}[ \t]*)?,)*[ \t]*(?:${TAG}[ \t]*)?$`);
const ENTITY_TAGS = /(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"/g;

/**
 * The versions an `If-Match` header accepts: any when absent or `*`, else the ones it names. Weak tags never match
 * (RFC 9110 §13.1.1 compares strongly); a tag of another resource matches nothing (412). A header that is not a list
 * of entity tags (`3` for `"3"`) is a client's mistake, answered 400 rather than 412, which would say "changed".
 */
export function expectedVersion(header: string | undefined): ExpectedVersion {
  if (header === undefined || header.trim() === '*') return 'any';
  if (!ENTITY_TAG_LIST.test(header)) {
    throw new ProblemException(400, {
      detail: 'If-Match must be * or a list of entity tags, such as "3" (an ETag as sent, with its quotes).',
    });
  }
  return (
    [...header.matchAll(ENTITY_TAGS)]
      .filter(([, weak]) => !weak)
      .map(([, , opaque]) => opaque!)
      // The digits as etagOf writes them: "01" is another tag than "1".
      .filter((opaque) => /^(0|[1-9]\d{0,8})$/.test(opaque))
      .map(Number)
  );
}

/** The request's `If-Match` as an {@link ExpectedVersion} (documented in OpenAPI by {@link ApiIfMatch}). */
export function ifMatchOf(_data: unknown, context: ExecutionContext): ExpectedVersion {
  return expectedVersion(context.switchToHttp().getRequest<FastifyRequest>().headers['if-match']);
}
export const IfMatch = createParamDecorator(ifMatchOf);

export const ApiIfMatch = (resource: string) =>
  applyDecorators(
    ApiHeader({
      name: 'If-Match',
      required: false,
      description: `The ETag you last read; the write fails with 412 if the ${resource} changed since`,
    }),
  );

export interface VersionedResource<T> {
  /** For messages: `project`. */
  name: string;
  /** The resource as the caller may see it, or undefined when it does not exist for them (404). */
  find(): Promise<T | undefined>;
}

/**
 * Runs a conditional write (one statement, `… AND version = ANY(…)`) and, when it matched no row, tells the two
 * reasons apart: the resource does not exist for this caller (404) or the caller's version is stale (412).
 */
export async function versionedWrite<T>(
  resource: VersionedResource<unknown>,
  write: () => Promise<T | undefined>,
): Promise<T> {
  const written = await write();
  if (written !== undefined) return written;
  if (!(await resource.find())) throw notFound(resource.name);
  throw stale(resource.name);
}

/** A write with nothing to change still honours If-Match. */
export async function unchangedIfMatches<T extends { version: number }>(
  resource: VersionedResource<T>,
  expected: ExpectedVersion,
): Promise<T> {
  const current = await resource.find();
  if (!current) throw notFound(resource.name);
  if (!versionMatches(expected, current.version)) throw stale(resource.name);
  return current;
}

function stale(name: string): ProblemException {
  return new ProblemException(412, { detail: `The ${name} has changed since that version; fetch it again.` });
}
