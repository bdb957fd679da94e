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
    documentBodyProblems(SwaggerModule.createDocument(app, config, { extraModels: [ProblemDto] })),
  );
}

/**
 * A write answers a body it cannot take (400 malformed, 413 too large, 415 another type) whether or not it takes one:
 * each says so, a DELETE with no body of its own included.
 */
function documentBodyProblems(document: OpenAPIObject): OpenAPIObject {
  for (const operations of Object.values(document.paths)) {
    for (const method of ['post', 'put', 'patch', 'delete'] as const) {
      const responses = operations[method]?.responses;
      for (const status of [400, 413, 415]) {
        if (!responses || String(status) in responses) continue;
        responses[status] = problemResponse(status);
      }
    }
  }
  return document;
}

/** Serves the document at /openapi.json and Swagger UI (with a bearer-token box) at /docs. */
export function serveApiDocs(app: INestApplication): void {
  SwaggerModule.setup(DOCS_PATH.slice(1), app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH.slice(1),
    // JSON only: without this, /docs-yaml serves the document too.
    raw: ['json'],
    swaggerOptions: { persistAuthorization: true },
  });
}
