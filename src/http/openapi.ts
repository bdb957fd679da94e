import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { APP_VERSION } from '../utils/version.js';
import { documentResponseHeaders } from './openapi-headers.js';
import { problemResponse, ProblemDto } from './problem.dto.js';

export const OPENAPI_JSON_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Runway API')
    .setDescription(
      'Errors are RFC 9457 application/problem+json bodies. Authenticate with a Cognito access token.',
    )
    .setVersion(APP_VERSION)
    .setOpenAPIVersion('3.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  return documentResponseHeaders(
    documentFrameworkProblems(SwaggerModule.createDocument(app, config, { extraModels: [ProblemDto] })),
  );
}

/**
 * What the framework answers before a handler runs, on every operation it can happen to: a request it cannot take (400
 * for a bad `Host`, 431 for headers too large); a write's body it cannot take (400 malformed, 408 too slow to arrive,
 * 413 too large, 415 another type), a DELETE with no body of its own included; a path parameter that does not decode
 * (400) or is too long (414); a signed-in caller whose user row is changing (409). An operation whose answers are HTML
 * pages answers a browser's problems as pages too, and others' as problem+json: both are documented.
 */
function documentFrameworkProblems(document: OpenAPIObject): OpenAPIObject {
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const responses = operations[method]?.responses as
        Record<string, { content?: Record<string, unknown> }> | undefined;
      if (!responses) continue;
      const statuses = [
        400,
        431,
        ...(method === 'get' ? [] : [408, 413, 415]),
        ...(path.includes('{') ? [400, 414] : []),
        // Signed in: the caller's user row may be being created or deleted meanwhile (409 with Retry-After).
        ...('401' in responses ? [409] : []),
      ];
      for (const status of statuses) responses[status] ??= problemResponse(status);
      const pages = Object.values(responses).some((response) => response.content?.['text/html']);
      if (!pages) continue;
      for (const [status, response] of Object.entries(responses)) {
        if (!FRAMEWORK_PROBLEMS.has(Number(status))) continue;
        response.content = {
          ...PAGE_CONTENT,
          ...problemResponse(Number(status)).content,
          ...response.content,
        };
      }
    }
  }
  return document;
}
const FRAMEWORK_PROBLEMS = new Set([400, 413, 414, 415, 429, 503]);
const PAGE_CONTENT = { 'text/html': { schema: { type: 'string' } } };

/** Serves the document at /openapi.json and Swagger UI (with a bearer-token box) at /docs. */
export function serveApiDocs(app: INestApplication): void {
  SwaggerModule.setup(DOCS_PATH.slice(1), app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    // JSON only: without this, /docs-yaml serves the document too.
    raw: ['json'],
    swaggerOptions: { persistAuthorization: true },
  });
}
