import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithBrowser, openBrowser, saveScreenshot, type TestBrowser } from '../support/browser.js';

const STYLE = 'body { font-family: sans-serif; color: rgb(20, 60, 120); }';
const UNLISTED_STYLE = 'p { color: red; }';
const CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "form-action 'self'",
].join('; ');

interface ReceivedPost {
  contentType?: string;
  fields: Record<string, string>;
}

/**
 * The browser harness on a page served under a strict Content Security Policy: a form posted the way browsers
 * post it, a screenshot, and CSP violations reported when there is one, and only then.
 */
describeWithBrowser('a headless Chromium on a page with a strict CSP', () => {
  let server: Server;
  let origin: string;
  let browser: TestBrowser;
  const posts: ReceivedPost[] = [];

  beforeAll(async () => {
    server = createServer(
      (request, response) => void serve(request, posts).then((html) => respond(response, html)),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('submits a form as application/x-www-form-urlencoded and shows the answer, with no CSP violation', async () => {
    const page = await browser.page();
    await page.goto(`${origin}/`);
    // The hash in the policy lets the page's own inline style apply.
    expect(await page.evaluate('getComputedStyle(document.body).color')).toBe('rgb(20, 60, 120)');

    await page.getByLabel('Note').fill('ship it & smile');
    await page.getByRole('button', { name: 'Send' }).click();

    await expect.poll(() => page.locator('h1').textContent()).toBe('Received: ship it & smile');
    expect(posts).toEqual([
      { contentType: 'application/x-www-form-urlencoded', fields: { note: 'ship it & smile' } },
    ]);
    expect(existsSync(await saveScreenshot(page, 'browser-smoke-posted'))).toBe(true);
    await browser.settle(page);
    expect(browser.cspViolations).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  });

  it('reports an inline style the policy does not allow', async () => {
    const page = await browser.page();
    await page.goto(`${origin}/unlisted-style`);
    await browser.settle(page);

    expect(browser.cspViolations).toContainEqual(
      expect.objectContaining({
        via: 'event',
        directive: 'style-src-elem',
        pageUrl: `${origin}/unlisted-style`,
      }),
    );
    expect(browser.cspViolations).toContainEqual(
      expect.objectContaining({
        via: 'console',
        pageUrl: `${origin}/unlisted-style`,
        text: expect.stringContaining('inline style'),
      }),
    );
  });
});

async function serve(request: IncomingMessage, posts: ReceivedPost[]): Promise<string> {
  if (request.method === 'POST' && request.url === '/notes') {
    const fields = Object.fromEntries(new URLSearchParams(await readText(request)));
    posts.push({ contentType: request.headers['content-type'], fields });
    return document(`<h1>Received: ${escapeHtml(fields.note ?? '')}</h1>`);
  }
  if (request.url === '/unlisted-style') return document('<p>Unstyled</p>', UNLISTED_STYLE);
  return document(`
    <form method="post" action="/notes">
      <label>Note <input name="note"></label>
      <button type="submit">Send</button>
    </form>`);
}

function document(body: string, style = STYLE): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Smoke</title>
    <style>${style}</style></head><body>${body}</body></html>`;
}

function respond(response: ServerResponse, html: string): void {
  response
    .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP })
    .end(html);
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
