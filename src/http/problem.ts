import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { violatedUniqueConstraint } from '../database/postgres-errors.js';

/** RFC 9457 problem details, plus Runway's extension members. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** Problem types that mean more than their status code; everything else is `about:blank` (RFC 9457 §4.2.1). */
export const PROBLEM_TYPES = {
  validation: 'urn:runway:problem:validation',
  databaseUnavailable: 'urn:runway:problem:database-unavailable',
  notReady: 'urn:runway:problem:not-ready',
} as const;

export interface ProblemOptions {
  type?: string;
  detail?: string;
  /** Extension members added to the body, e.g. `errors` or `checks`; never one of RFC 9457's own members. */
  extensions?: Record<string, unknown> & {
    [member in 'type' | 'title' | 'status' | 'detail' | 'instance']?: never;
  };
  headers?: Record<string, string>;
}

/** Throw this anywhere to answer with a specific problem+json body. */
export class ProblemException extends HttpException {
  constructor(
    status: number,
    readonly problem: ProblemOptions = {},
  ) {
    super(problem.detail ?? STATUS_CODES[status] ?? 'Error', status);
  }
}

/** 404 for a resource that does not exist, or is not the caller's (never reveal which). */
export function notFound(name: string): ProblemException {
  return new ProblemException(404, { detail: `No such ${name}.` });
}

export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/**
 * Runs a write; when it violates one of the named unique constraints, answers 409 with that constraint's message
 * (`{ uq_projects_owner_name: 'You already have a project with this name.' }`).
 */
export async function conflictOnDuplicate<T>(
  duplicates: Record<string, string>,
  write: () => Promise<T>,
): Promise<T> {
  try {
    return await write();
  } catch (error) {
    const detail = duplicates[violatedUniqueConstraint(error) ?? ''];
    if (detail) throw new ProblemException(409, { detail });
    throw error;
  }
}
