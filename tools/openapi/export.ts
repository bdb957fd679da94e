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
import { ROOT } from '../root.js';

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
  const ast = await openapiTS(document as Parameters<typeof openapiTS>[0], { defaultNonNullable: false });
  return `// Generated from openapi.json by \`npm run openapi:export\`: do not edit by hand.\n${astToString(ast)}`;
}

type Operations = Record<string, Record<string, { parameters?: { name: string; in: string }[] }>>;
type Schemas = Record<string, { properties?: Record<string, unknown>; enum?: unknown[] }>;

/** What `after` removes from `before` that a client may rely on: operations, parameters, schemas and fields. */
export function breakingChanges(before: OpenAPIObject, after: OpenAPIObject): string[] {
  const changes: string[] = [];
  const [oldPaths, newPaths] = [before.paths as Operations, after.paths as Operations];
  for (const [path, operations] of Object.entries(oldPaths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const now = newPaths[path]?.[method];
      if (!now) {
        changes.push(`removed operation ${method.toUpperCase()} ${path}`);
        continue;
      }
      for (const { name, in: place } of operation.parameters ?? []) {
        if (!(now.parameters ?? []).some((parameter) => parameter.name === name && parameter.in === place)) {
          changes.push(`removed ${place} parameter ${name} of ${method.toUpperCase()} ${path}`);
        }
      }
    }
  }
  const [oldSchemas, newSchemas] = [
    (before.components?.schemas ?? {}) as Schemas,
    (after.components?.schemas ?? {}) as Schemas,
  ];
  for (const [name, schema] of Object.entries(oldSchemas)) {
    const now = newSchemas[name];
    if (!now) {
      changes.push(`removed schema ${name}`);
      continue;
    }
    for (const field of Object.keys(schema.properties ?? {})) {
      if (!(field in (now.properties ?? {}))) changes.push(`removed field ${name}.${field}`);
    }
    for (const value of schema.enum ?? []) {
      if (!(now.enum ?? []).includes(value))
        changes.push(`removed value ${JSON.stringify(value)} of ${name}`);
    }
  }
  return changes;
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

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`openapi:export: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
