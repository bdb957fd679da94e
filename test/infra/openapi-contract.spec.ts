import type { OpenAPIObject } from '@nestjs/swagger';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { breakingChanges } from '../../tools/openapi/breaking-changes.js';
import {
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

  it("the client's schema holds the JSON API only: an emailed link's pages are for browsers", async () => {
    const schema = await clientSchemaText(document);
    expect(Object.keys(document.paths)).toContain('/t/{token}');
    expect(schema).not.toContain('/t/{token}');
    expect(schema).toContain('"/v1/projects/{id}"');
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

    it('are also changes inside parameters, bodies and schemas that requests or responses use', () => {
      const document = (cursor = true): OpenAPIObject => ({
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: {
          '/v1/things': {
            get: {
              parameters: [{ name: 'state', in: 'query', schema: { enum: ['open', 'closed'] } }],
              responses: {
                '200': {
                  description: '',
                  content: {
                    'application/json': {
                      schema: {
                        type: 'object',
                        properties: {
                          items: { type: 'array', items: { $ref: '#/components/schemas/Thing' } },
                          ...(cursor ? { nextCursor: {} } : {}),
                        },
                      },
                    },
                  },
                },
              },
            },
            post: {
              requestBody: {
                content: { 'application/json': { schema: { $ref: '#/components/schemas/NewThing' } } },
              },
              responses: {
                '201': {
                  description: '',
                  content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
                },
              },
            },
          },
        },
        components: {
          schemas: {
            Thing: {
              type: 'object',
              properties: { id: { type: 'string' }, name: { type: 'string' } },
              required: ['id', 'name'],
            },
            NewThing: { type: 'object', properties: { name: {}, colour: { enum: ['red', 'blue'] } } },
          },
        },
      });
      const after = document(false);
      const get = after.paths['/v1/things']!.get!;
      (get.parameters![0] as { schema: { enum: string[] } }).schema.enum = ['open'];
      get.parameters!.push({ name: 'owner', in: 'query', required: true });
      const post = after.paths['/v1/things']!.post!;
      post.responses = { '200': post.responses['201'] };
      const schemas = after.components!.schemas! as Record<
        string,
        { properties: Record<string, object>; required?: string[] }
      >;
      schemas.Thing!.properties.name = { type: ['string', 'null'] };
      schemas.Thing!.required = ['id'];
      schemas.NewThing!.required = ['name'];
      schemas.NewThing!.properties.colour = { enum: ['red'] };
      schemas.NewThing!.properties.name = { type: 'string', maxLength: 10 };
      schemas.Thing!.properties.id = { type: 'integer' };
      expect(breakingChanges(document(), after)).toEqual([
        'removed value "closed" of query parameter state of GET /v1/things',
        'newly required query parameter owner of GET /v1/things',
        'removed field nextCursor in the 200 response of GET /v1/things',
        'removed 201 response of POST /v1/things',
        'Thing.id is now integer, not string',
        'field Thing.name may now be missing',
        'Thing.name may now be null',
        'NewThing.name takes a lower maxLength (10)',
        'removed value "blue" of NewThing.colour',
        'newly required field NewThing.name',
      ]);
    });

    it('follow a field from one component to another, or between a component and an inline schema', () => {
      const document = (after = false): OpenAPIObject => ({
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: {
          '/v1/things': {
            get: {
              parameters: [
                {
                  name: 'state',
                  in: 'query',
                  schema: after ? { $ref: '#/components/schemas/State' } : { enum: ['open', 'closed'] },
                },
              ],
              responses: {
                '200': {
                  description: '',
                  content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } },
                },
              },
            },
          },
        },
        components: {
          schemas: {
            Thing: {
              type: 'object',
              properties: { owner: { $ref: `#/components/schemas/${after ? 'Machine' : 'Person'}` } },
            },
            Person: {
              type: 'object',
              properties: { name: {}, manager: { $ref: '#/components/schemas/Person' } },
            },
            Machine: { type: 'object', properties: { manager: { $ref: '#/components/schemas/Machine' } } },
            State: { enum: ['open'] },
          },
        },
      });
      expect(breakingChanges(document(), document(true))).toEqual([
        'removed value "closed" of query parameter state of GET /v1/things',
        // Once: Person and Machine refer to themselves, and the pair is compared once.
        'removed field Thing.owner.name',
      ]);
    });

    it('are a request field that no longer takes null, and a response body type gone', () => {
      const document = (after = false): OpenAPIObject => ({
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: {
          '/v1/me': {
            get: {
              responses: {
                '200': {
                  description: '',
                  content: after ? {} : { 'application/json': { schema: { type: 'object' } } },
                },
              },
            },
            patch: {
              requestBody: {
                content: { 'application/json': { schema: { $ref: '#/components/schemas/Update' } } },
              },
              responses: {},
            },
          },
        },
        components: {
          schemas: {
            Update: { type: 'object', properties: { name: { type: after ? 'string' : ['string', 'null'] } } },
          },
        },
      });
      expect(breakingChanges(document(), document(true))).toEqual([
        'removed application/json body of the 200 response of GET /v1/me',
        'Update.name no longer takes null',
      ]);
    });

    it('are an enum or a format where a request had none, a type a request no longer takes, a response widened', () => {
      const document = (after = false): OpenAPIObject => ({
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: {
          '/v1/things': {
            get: {
              parameters: [
                {
                  name: 'kind',
                  in: 'query',
                  schema: after ? { type: 'string', enum: ['a', 'b'] } : { type: 'string' },
                },
                {
                  name: 'since',
                  in: 'query',
                  schema: after ? { type: 'string', format: 'date' } : { type: 'string' },
                },
              ],
              responses: {
                '200': {
                  description: '',
                  content: {
                    'application/json': {
                      schema: {
                        type: 'object',
                        properties: {
                          count: after
                            ? { oneOf: [{ type: 'integer' }, { type: 'string' }] }
                            : { type: 'integer' },
                          total: after ? { type: ['integer', 'string'] } : { type: 'integer' },
                        },
                      },
                    },
                  },
                },
              },
            },
            post: {
              requestBody: {
                content: {
                  'application/json': {
                    schema: {
                      type: 'object',
                      properties: { size: { type: after ? 'integer' : ['integer', 'string'] } },
                    },
                  },
                },
              },
              responses: {},
            },
          },
        },
      });
      expect(breakingChanges(document(), document(true))).toEqual([
        'query parameter kind of GET /v1/things now takes only "a", "b"',
        'query parameter since of GET /v1/things takes another format (date)',
        'count in the 200 response of GET /v1/things may now be string',
        'total in the 200 response of GET /v1/things may now be string',
        'size in the body of POST /v1/things no longer takes string',
      ]);
      // The other way round, each is a widening of a request or a narrowing of a response: none breaks.
      expect(breakingChanges(document(true), document())).toEqual([]);
    });

    it('are not a component wrapped to add a description, nor a request field that now takes null', () => {
      const document = (after = false): OpenAPIObject => ({
        openapi: '3.1.0',
        info: { title: 't', version: '1' },
        paths: {},
        components: {
          schemas: {
            Summary: {
              type: 'object',
              properties: {
                period: after
                  ? { description: 'The days counted', allOf: [{ $ref: '#/components/schemas/Period' }] }
                  : { $ref: '#/components/schemas/Period' },
              },
            },
            Update: {
              type: 'object',
              properties: {
                period: after
                  ? { oneOf: [{ $ref: '#/components/schemas/Period' }, { type: 'null' }] }
                  : { $ref: '#/components/schemas/Period' },
              },
            },
            Period: { type: 'object', properties: { from: {}, to: {} } },
          },
        },
      });
      // Update is used by no operation: compared as request and response, where taking null is a response's change.
      expect(breakingChanges(document(), document(true))).toEqual(['Update.period may now be null']);
    });

    it('are not additions', () => {
      const after = base();
      after.paths['/v1/other'] = { get: { responses: {} } };
      (after.components!.schemas!.Thing as { properties: Record<string, unknown> }).properties.extra = {};
      expect(breakingChanges(base(), after)).toEqual([]);
    });
  });
});
