import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBrowser, openBrowser, saveScreenshot, type TestBrowser } from '../support/browser.js';
import { authorizeQuery, pkce, tokensOf, useDevIssuer } from './dev-issuer-client.js';

/** The sign-in page in Chromium: its CSP must let the form post and the redirect back to the client happen. */
describeWithBrowser('dev issuer sign-in in a browser', () => {
  const issuer = useDevIssuer();
  let browser: TestBrowser;
  let client: Server;
  let redirectUri: string;
  beforeAll(async () => {
    client = createServer((_, response) =>
      response.writeHead(200, { 'content-type': 'text/html' }).end('ok'),
    );
    await new Promise<void>((resolve) => client.listen(0, '127.0.0.1', resolve));
    redirectUri = `http://localhost:${(client.address() as AddressInfo).port}/admin/`;
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    client?.close();
  });

  const signInWith = async (choose: (page: Awaited<ReturnType<TestBrowser['page']>>) => Promise<void>) => {
    const codePair = pkce();
    const page = await browser.page();
    const query = authorizeQuery(codePair.challenge, { redirect_uri: redirectUri });
    expect((await page.goto(`${issuer.server.url}/oauth2/authorize?${query}`))!.status()).toBe(200);
    await choose(page);
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    const redirect = new URL(page.url());
    expect(redirect.searchParams.get('state')).toBe('state-1');
    await browser.settle(page);
    const response = await issuer.exchange(
      { redirect, code: redirect.searchParams.get('code')!, pkce: codePair },
      { redirect_uri: redirectUri },
    );
    expect(response.status).toBe(200);
    const { access_token } = await tokensOf(response);
    return JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
  };

  it('signs in with one click on a user, and back to the client with a code', async () => {
    const claims = await signInWith(async (page) => {
      await saveScreenshot(page, 'dev-issuer-sign-in');
      await page.getByRole('button', { name: 'Sign in as admin' }).click();
    });
    expect(claims).toMatchObject({ username: 'admin', 'cognito:groups': ['admin'] });
    expect(browser.cspViolations).toEqual([]);
  });

  it('signs in as another username typed in the field (Enter submits that username)', async () => {
    const claims = await signInWith(async (page) => {
      await page.getByLabel('Another username (in no group)').fill('carol');
      await page.keyboard.press('Enter');
    });
    expect(claims).toMatchObject({ username: 'carol' });
    expect(claims['cognito:groups']).toBeUndefined();
    expect(browser.cspViolations).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  });
});
