import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { describe, it } from 'vitest';
import { ROOT } from './process.js';

/** Debian's `chromium` package, unless RUNWAY_CHROMIUM names another executable. */
export const chromiumPath = process.env.RUNWAY_CHROMIUM || '/usr/bin/chromium';
export const browserAvailable = existsSync(chromiumPath);
/** Set by CI, where a browser test must never be skipped. */
const browserRequired = process.env.RUNWAY_REQUIRE_BROWSER === '1';

export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export interface ConsoleEntry {
  type: string;
  text: string;
  url: string;
}

export interface CspViolation {
  /** Seen as the page's `securitypolicyviolation` event, or as Chromium's console report (which also covers
   * policies it could not parse). */
  via: 'event' | 'console';
  pageUrl: string;
  /** From events: the directive that refused (`style-src-elem`…), what it refused, and whether it only reported. */
  directive?: string;
  blockedUri?: string;
  sample?: string;
  disposition?: string;
  /** From the console: Chromium's message. */
  text?: string;
}

export interface TestBrowser {
  /** A page in a context of its own (cookies and storage are not shared with other calls). */
  page(options?: BrowserContextOptions): Promise<Page>;
  /** Everything written to the console, by every page, in order. */
  readonly consoleMessages: ConsoleEntry[];
  readonly cspViolations: CspViolation[];
  /** Uncaught exceptions in pages. */
  readonly pageErrors: Error[];
  /** Lets reports the page has queued (violation events are dispatched asynchronously) arrive before asserting. */
  settle(page: Page): Promise<void>;
  close(): Promise<void>;
}

const CSP_REPORTER = '__runwayCspViolation';

/** A headless Chromium that keeps console messages, CSP violations and page errors. */
export async function openBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: chromiumPath });
  const consoleMessages: ConsoleEntry[] = [];
  const cspViolations: CspViolation[] = [];
  const pageErrors: Error[] = [];

  const watch = async (context: BrowserContext) => {
    context.setDefaultTimeout(15_000);
    context.on('console', (message) => {
      const entry = { type: message.type(), text: message.text(), url: message.location().url };
      consoleMessages.push(entry);
      if (entry.text.includes('Content Security Policy')) {
        cspViolations.push({ via: 'console', pageUrl: message.page()?.url() ?? entry.url, text: entry.text });
      }
    });
    context.on('weberror', (error) => pageErrors.push(error.error()));
    await context.exposeFunction(CSP_REPORTER, (violation: Omit<CspViolation, 'via'>) => {
      cspViolations.push({ via: 'event', ...violation });
    });
    await context.addInitScript(reportCspViolations);
  };

  return {
    consoleMessages,
    cspViolations,
    pageErrors,
    async page(options) {
      const context = await browser.newContext(options);
      await watch(context);
      return context.newPage();
    },
    async settle(page) {
      await page.evaluate('new Promise((resolve) => setTimeout(resolve, 0))');
    },
    close: () => browser.close(),
  };
}

// Runs in every page before its own scripts; a string because the project compiles without the DOM library.
const reportCspViolations = `
  document.addEventListener('securitypolicyviolation', (event) => {
    globalThis.${CSP_REPORTER}({
      pageUrl: event.documentURI,
      directive: event.effectiveDirective,
      blockedUri: event.blockedURI,
      sample: event.sample,
      disposition: event.disposition,
    });
  }, true);
`;

/**
 * A describe that needs Chromium. Without it, the suite is skipped and says why; with RUNWAY_REQUIRE_BROWSER=1
 * (CI), a missing browser fails instead.
 */
export function describeWithBrowser(name: string, fn: () => void): void {
  if (browserAvailable) {
    describe(name, fn);
    return;
  }
  const reason = `no Chromium at ${chromiumPath} (apt-get install chromium, or set RUNWAY_CHROMIUM)`;
  if (browserRequired) {
    describe(name, () => {
      it('has a browser (RUNWAY_REQUIRE_BROWSER=1)', () => {
        throw new Error(reason);
      });
    });
    return;
  }
  console.warn(`skipped "${name}": ${reason}`);
  describe.skip(`${name} [skipped: ${reason}]`, fn);
}

/** Writes `test-results/screenshots/<name>.png` (the whole page) and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
