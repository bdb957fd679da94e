import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, useTestApp, type TestApp } from '../support/app.js';
import { listRoutes } from '../support/routes.js';

describe('OpenAPI', () => {
  const t = useTestApp();

  it('serves a valid OpenAPI 3.x document at /openapi.json', async () => {
    const response = await t.http().get('/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toMatch(/^3\./);
    const result = await new Validator().validate(response.body);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('documents every route of the app', async () => {
    const document = (await t.http().get('/openapi.json')).body as {
      paths: Record<string, Record<string, object>>;
    };
    const routes = listRoutes(t.app);
    expect(routes.map((route) => `${route.method} ${route.path}`)).toEqual(
      expect.arrayContaining(['GET /health/live', 'GET /health/ready']),
    );
    for (const { method, path } of routes) {
      expect(
        document.paths[path]?.[method.toLowerCase()],
        `${method} ${path} is not documented`,
      ).toBeDefined();
    }
  });

  it('serves Swagger UI at /docs', async () => {
    const response = await t.http().get('/docs').redirects(1);
    expect(response.status).toBe(200);
    expect(response.text).toContain('swagger-ui');
  });

  describe('with API_DOCS_ENABLED=false', () => {
    let hidden: TestApp;
    beforeAll(async () => {
      hidden = await createTestApp({ databaseUrl: t.db.url, env: { API_DOCS_ENABLED: 'false' } });
    });
    afterAll(() => hidden?.close());

    it('serves neither the document nor the UI', async () => {
      expect((await hidden.http().get('/openapi.json')).status).toBe(404);
      expect((await hidden.http().get('/docs')).status).toBe(404);
    });
  });
});
