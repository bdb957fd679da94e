import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';
import { statusTitle } from './problem.js';

class FieldErrorDto {
  @ApiProperty({ example: '/name' })
  pointer: string;

  @ApiProperty({ example: 'name must be shorter than or equal to 120 characters' })
  detail: string;
}

/** OpenAPI shape of every error body (RFC 9457). */
export class ProblemDto {
  @ApiProperty({ example: 'about:blank' })
  type: string;

  @ApiProperty({ example: 'Not Found' })
  title: string;

  @ApiProperty({ example: 404 })
  status: number;

  @ApiPropertyOptional()
  detail?: string;

  @ApiPropertyOptional({ example: '/v1/projects/0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70' })
  instance?: string;

  @ApiPropertyOptional({ description: 'X-Request-Id of the request' })
  requestId?: string;

  @ApiPropertyOptional({ description: 'OpenTelemetry trace id of the request, when traced' })
  traceId?: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    description: 'Validation failures (400), or the fields the app refuses in its state (422)',
  })
  errors?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'The user id of the operator who holds the task (409 to a claim)' })
  assignee?: string;

  @ApiPropertyOptional({ description: 'The status of a task no longer open (409)' })
  taskStatus?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "The task's decision, as in the task (409 to a decision on a task no longer open)",
  })
  decision?: Record<string, unknown>;

  @ApiPropertyOptional({ type: [String], description: 'The rate limits the request went over (429)' })
  'violated-policies'?: string[];

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Each readiness check and its state (503 from /health/ready)',
  })
  checks?: Record<string, unknown>;
}

/** Documents the problem+json error responses of a route: `@ApiProblems(400, 404)`. */
export function ApiProblems(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(...statuses.map((status) => ApiResponse({ status, ...problemResponse(status) })));
}

/** An OpenAPI response of `status` whose body is problem+json. */
export function problemResponse(status: number) {
  return {
    description: statusTitle(status),
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/ProblemDto' } } },
  };
}
