/**
 * The API's published contract: openapi.json at the repository root (what front ends generate their types from) and
 * the typed client's schema, packages/client/src/schema.ts. Both are generated from the code and committed; a test
 * fails when they are stale and names the changes that would break a client.
 */
import type { OpenAPIObject } from '@nestjs/swagger';
import openapiTS, { astToString } from 'openapi-typescript';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { buildOpenApiDocument } from '../../src/http/openapi.js';
import { isMainModule, ROOT } from '../root.js';
import { breakingChanges } from './breaking-changes.js';

export const OPENAPI_FILE = join(ROOT, 'openapi.json');
export const CLIENT_SCHEMA_FILE = join(ROOT, 'packages', 'client', 'src', 'schema.ts');

/** The document as the app builds it, from a process that talks to no database and no issuer. */
export async function currentDocument(): Promise<OpenAPIObject> {
  const nowhere = 'http://127.0.0.1:9/.well-known/jwks.json';
  const app = await createApp(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: 'postgres://openapi@127.0.0.1:9/openapi',
      COGNITO_USER_POOL_ID: 'eu-west-1_OpenApi',
      COGNITO_CLIENT_ID: 'openapi',
      COGNITO_JWKS_URL: nowhere,
    }),
  );
  try {
    return buildOpenApiDocument(app);
  } finally {
    await app.close();
  }
}

export function documentText(document: OpenAPIObject): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

export async function clientSchemaText(document: OpenAPIObject): Promise<string> {
  // A field with a default (a project's status) may be left out of a request body.
  const ast = await openapiTS(jsonApiOnly(document) as Parameters<typeof openapiTS>[0], {
    defaultNonNullable: false,
  });
  return `// Generated from openapi.json by \`npm run openapi:export\`: do not edit by hand.\n${astToString(ast)}`;
}

/**
 * The client calls the JSON API. Paths that answer HTML pages (an emailed link's page and its form) are for browsers:
 * a client would parse their pages as JSON, and send their forms as JSON, which they refuse.
 */
function jsonApiOnly(document: OpenAPIObject): OpenAPIObject {
  const answersPages = (operations: object) =>
    Object.values(operations as Record<string, { responses?: Record<string, { content?: object }> }>).some(
      ({ responses }) =>
        Object.values(responses ?? {}).some(({ content }) => content && 'text/html' in content),
    );
  const paths = Object.entries(document.paths).filter(([, operations]) => !answersPages(operations));
  return { ...document, paths: Object.fromEntries(paths) };
}

/** `npm run openapi:export`: writes both files and names what the change removes from the committed contract. */
async function main(): Promise<number> {
  const document = await currentDocument();
  const committed = existsSync(OPENAPI_FILE)
    ? (JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as OpenAPIObject)
    : undefined;
  writeFileSync(OPENAPI_FILE, documentText(document));
  writeFileSync(CLIENT_SCHEMA_FILE, await clientSchemaText(document));
  process.stdout.write(`Wrote openapi.json and packages/client/src/schema.ts\n`);
  const breaking = committed ? breakingChanges(committed, document) : [];
  for (const change of breaking) process.stdout.write(`  BREAKING for clients: ${change}\n`);
  return 0;
}

if (isMainModule(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`openapi:export: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
