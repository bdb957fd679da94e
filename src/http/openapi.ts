import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { APP_VERSION } from '../utils/version.js';
import { documentResponseHeaders } from './openapi-headers.js';
import { ProblemDto } from './problem.dto.js';

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
  return documentResponseHeaders(SwaggerModule.createDocument(app, config, { extraModels: [ProblemDto] }));
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
