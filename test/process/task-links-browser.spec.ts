import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';
import { describeWithBrowser, openBrowser, saveScreenshot, type TestBrowser } from '../support/browser.js';
import { admin, createTask, linkOf, TASKS_ENV, useAwsEndpoint } from '../support/tasks.js';

/** An operator decides from the email, in a real browser: open the link, approve, open it again. */
describeWithBrowser('emailed task links in a browser', () => {
  const endpoint = useAwsEndpoint();
  const t = useTestApp({ env: TASKS_ENV });
  let browser: TestBrowser;
  let origin: string;
  beforeAll(async () => {
    await t.app.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    browser = await openBrowser();
  });
  afterAll(() => browser?.close());

  it('shows the task, approves it with one click, and then says the link was used', async () => {
    const title = `Refund order ${Math.random().toString(36).slice(2, 8)}`;
    const created = await createTask(t, { title, description: 'The customer was charged twice.' });
    await endpoint.aws.waitFor(
      (call) =>
        call.operation === 'SendEmail' && call.status === 200 && JSON.stringify(call.input).includes(title),
      20_000,
    );
    const email = endpoint.aws.emails().find((sent) => sent.subject.includes(title))!;
    const link = `${origin}${linkOf(email).path}`;

    const page = await browser.page({ viewport: { width: 390, height: 844 } });
    const shown = await page.goto(link);
    expect(shown!.status()).toBe(200);
    await expect(page.getByRole('heading', { name: title }).isVisible()).resolves.toBe(true);
    await saveScreenshot(page, 'task-link-open');

    await page.getByLabel('Comment (optional)').fill('Refunded in Stripe');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByRole('heading', { name: 'Approved' }).waitFor();
    await saveScreenshot(page, 'task-link-approved');

    const again = await page.goto(link);
    expect(again!.status()).toBe(410);
    expect(await page.textContent('h1')).toContain('already used');
    await saveScreenshot(page, 'task-link-used');

    await browser.settle(page);
    expect(browser.cspViolations).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    const { body } = await t
      .http()
      .get(`/v1/tasks/${created.id}`)
      .set('authorization', admin().authorization);
    expect(body.decision).toMatchObject({ outcome: 'approved', comment: 'Refunded in Stripe', via: 'email' });
  });
});
