import type { OpenAPIObject } from '@nestjs/swagger';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  breakingChanges,
  CLIENT_SCHEMA_FILE,
  clientSchemaText,
  currentDocument,
  documentText,
  OPENAPI_FILE,
} from '../../tools/openapi/export.js';
import { ROOT } from '../support/process.js';

/** openapi.json and the typed client are the API's contract with front ends: generated, committed, never stale. */
describe('the published contract', () => {
  let document: OpenAPIObject;
  beforeAll(async () => {
    document = await currentDocument();
  });

  it('openapi.json is the document the code builds (npm run openapi:export)', () => {
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    if (committed === documentText(document)) return;
    const breaking = breakingChanges(JSON.parse(committed) as OpenAPIObject, document);
    expect.fail(
      `openapi.json is stale: run npm run openapi:export` +
        (breaking.length > 0 ? `; BREAKING for clients: ${breaking.join('; ')}` : ''),
    );
  });

  it("the client's schema is generated from it", async () => {
    expect(
      readFileSync(CLIENT_SCHEMA_FILE, 'utf8') === (await clientSchemaText(document)),
      'run npm run openapi:export',
    ).toBe(true);
  });

  it('the typed client and its Amplify example compile against the generated types', async () => {
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await promisify(execFile)(process.execPath, [
      tsc,
      '-p',
      join(ROOT, 'packages', 'client'),
    ]).then(
      () => '',
      (error: { stdout?: string; message: string }) => error.stdout || error.message,
    );
    expect(result).toBe('');
  });

  it('packs into a package with its code and declarations (npm pack builds it first)', async () => {
    const { stdout } = await promisify(execFile)(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts=false'],
      {
        cwd: join(ROOT, 'packages', 'client'),
      },
    );
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ files: { path: string }[] }];
    expect(packed.files.map(({ path }) => path)).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'dist/schema.d.ts', 'package.json']),
    );
  });

  describe('breaking changes', () => {
    const base = (): OpenAPIObject => ({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/v1/things': {
          get: { parameters: [{ name: 'limit', in: 'query' }], responses: {} },
          post: { responses: {} },
        },
      },
      components: {
        schemas: {
          Thing: { type: 'object', properties: { id: {}, name: {} } },
          Status: { enum: ['a', 'b'] },
        },
      },
    });

    it('are removed operations, parameters, schemas, fields and enum values', () => {
      const after = base();
      delete after.paths['/v1/things']!.post;
      after.paths['/v1/things']!.get!.parameters = [];
      delete (after.components!.schemas!.Thing as { properties: Record<string, unknown> }).properties.name;
      (after.components!.schemas!.Status as { enum: string[] }).enum = ['a'];
      expect(breakingChanges(base(), after)).toEqual([
        'removed query parameter limit of GET /v1/things',
        'removed operation POST /v1/things',
        'removed field Thing.name',
        'removed value "b" of Status',
      ]);
    });

    it('are not additions', () => {
      const after = base();
      after.paths['/v1/other'] = { get: { responses: {} } };
      (after.components!.schemas!.Thing as { properties: Record<string, unknown> }).properties.extra = {};
      expect(breakingChanges(base(), after)).toEqual([]);
    });
  });
});
