import { describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';

/** The back office's files (dist/web, built by `npm run build` before the tests) as the API serves them. */
describe('the back office at /admin/', () => {
  const t = useTestApp({
    env: { COGNITO_DOMAIN: 'http://127.0.0.1:4999', COGNITO_WEB_CLIENT_ID: 'runway-test-client' },
  });
  const unconfigured = useTestApp();

  it('moves /admin to /admin/', async () => {
    const response = await t.http().get('/admin');
    expect(response.status).toBe(301);
    expect(response.headers.location).toBe('/admin/');
  });

  it('serves the page with a strict policy: scripts and styles from this origin only, nothing inline', async () => {
    const response = await t.http().get('/admin/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['content-security-policy']).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self' http://127.0.0.1:4999; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    const html = response.text;
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    expect(html).toMatch(/<script type="module" src="\/admin\/assets\/[^"]+\.js"/);
  });

  it('serves each asset the page names for a year, since its name changes with its content', async () => {
    const html = (await t.http().get('/admin/')).text;
    const assets = [...html.matchAll(/(?:src|href)="(\/admin\/assets\/[^"]+)"/g)].map(([, path]) => path!);
    expect(assets.some((path) => path.endsWith('.css'))).toBe(true);
    for (const path of assets) {
      expect(path).toMatch(/-[A-Za-z0-9]{8,}\.(js|css)$/);
      const response = await t.http().get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers['cache-control'], path).toBe('public, max-age=31536000, immutable');
      expect(response.headers['content-type'], path).toMatch(
        /^(text\/css|text\/javascript|application\/javascript)/,
      );
    }
  });

  it('answers a missing asset 404 as problem+json', async () => {
    const response = await t.http().get('/admin/assets/missing-00000000.js');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toContain('application/problem+json');
  });

  it('tells the page where to sign in, or that sign-in is not configured', async () => {
    const configured = await t.http().get('/admin/config.json').expect(200);
    expect(configured.headers['cache-control']).toBe('no-cache');
    expect(configured.body).toEqual({
      analyticsTimeZone: 'UTC',
      clientId: 'runway-test-client',
      authorizeUrl: 'http://127.0.0.1:4999/oauth2/authorize',
      tokenUrl: 'http://127.0.0.1:4999/oauth2/token',
      logoutUrl: 'http://127.0.0.1:4999/logout',
      revokeUrl: 'http://127.0.0.1:4999/oauth2/revoke',
      scope: 'openid email profile',
    });
    const { body } = await unconfigured.http().get('/admin/config.json').expect(200);
    expect(body).toMatchObject({
      clientId: null,
      authorizeUrl: null,
      tokenUrl: null,
      logoutUrl: null,
      revokeUrl: null,
    });
    const page = await unconfigured.http().get('/admin/');
    expect(page.headers['content-security-policy']).toContain("connect-src 'self';");
  });
});
