import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createSigningKey,
  DEV_CLIENT_ID,
  DEV_USER_POOL_ID,
  devUserSub,
  mintAccessToken,
  serveDevIssuer,
  type LoopbackServer,
} from '../../tools/dev/dev-issuer.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { describeWithBrowser, openBrowser, saveScreenshot, type TestBrowser } from '../support/browser.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { until } from '../support/until.js';

/**
 * The back office in Chromium, against the real app, database and dev issuer: sign in as the dev issuer's `admin`,
 * read the numbers, draw a funnel, clear a task from the inbox; `alice` is refused. Every page is screenshotted.
 */
describeWithBrowser('the back office in a browser', () => {
  const key = createSigningKey();
  let issuer: LoopbackServer;
  let db: TestDatabase;
  let t: TestApp;
  let browser: TestBrowser;
  let origin: string;
  beforeAll(async () => {
    issuer = await serveDevIssuer(key);
    db = await createTestDatabase();
    t = await createTestApp({
      databaseUrl: db.url,
      env: {
        COGNITO_USER_POOL_ID: DEV_USER_POOL_ID,
        COGNITO_CLIENT_ID: DEV_CLIENT_ID,
        COGNITO_JWKS_URL: issuer.jwksUrl,
        COGNITO_DOMAIN: issuer.url,
        COGNITO_WEB_CLIENT_ID: DEV_CLIENT_ID,
      },
    });
    await t.app.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await seed();
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await db?.drop();
    await issuer?.close();
  });

  const bearer = (username: string, groups: string[] = []) =>
    `Bearer ${mintAccessToken(key, { username, sub: devUserSub(username), groups, clientId: DEV_CLIENT_ID })}`;
  const api = (path: string) =>
    request(origin)
      .get(path)
      .set('authorization', bearer('admin', ['admin']));
  const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();

  /** Four customers over the last days: all start onboarding, three finish it, one invites a teammate. */
  async function seed() {
    const steps = ['onboarding.started', 'onboarding.finished', 'teammate.invited'];
    for (const [index, reached] of [3, 2, 2, 1].entries()) {
      const events = steps
        .slice(0, reached)
        .map((name, step) => ({ name, occurredAt: daysAgo(3 - step / 24) }));
      await request(origin)
        .post('/v1/events')
        .set('authorization', bearer(`customer-${index}`))
        .send({ events })
        .expect(202);
    }
    for (const title of ['Refund order 1001', 'Refund order 1002']) {
      await request(origin)
        .post('/v1/tasks')
        .set('authorization', bearer('admin', ['admin']))
        .send({ type: 'approval', title, payload: { orderId: title.slice(-4) } })
        .expect(201);
    }
  }

  const makeTask = async (title: string) =>
    (
      await request(origin)
        .post('/v1/tasks')
        .set('authorization', bearer('admin', ['admin']))
        .send({ type: 'approval', title })
        .expect(201)
    ).body as { id: string };
  /** Holds the requests matching `url` until `release()`. */
  const hold = async (page: Page, url: RegExp) => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route(url, async (route) => {
      await held;
      await route.continue();
    });
    return release;
  };
  /** Through the dev issuer's page, back to the back office once it has the tokens and shows who is signed in. */
  async function signIn(page: Page, username: string) {
    await page.goto(`${origin}/admin/`);
    await page.getByRole('button', { name: `Sign in as ${username}` }).click();
    await page.waitForURL((url) => url.origin === origin && !url.search.includes('code='));
    await page.locator('[data-signed-in-as], [role="alert"]').first().waitFor();
  }

  it('signs the admin in and shows the numbers the API gives', async () => {
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    const retention = page.waitForRequest(/\/v1\/admin\/analytics\/retention\?/);
    await signIn(page, 'admin');
    await expect(page.locator('[data-signed-in-as]').textContent()).resolves.toBe('admin@example.com');
    await page.locator('[data-metric="activeUsers"]').waitFor();
    const { body: summary } = await api('/v1/admin/analytics/summary').expect(200);
    const shown = async (metric: string) =>
      Number(await page.locator(`[data-metric="${metric}"]`).getAttribute('data-value'));
    expect(summary.activeUsers.value).toBe(4);
    // The retention chart's weeks are complete: they end on the last Sunday up to the summary's last day.
    const asked = new URL((await retention).url()).searchParams;
    const end = new Date(`${asked.get('to')}T00:00:00Z`);
    expect(end.getUTCDay()).toBe(0);
    const behind = (Date.parse(`${summary.period.to}T00:00:00Z`) - end.getTime()) / 86_400_000;
    expect(behind >= 0 && behind < 7).toBe(true);
    expect(asked.get('from')).toBe(new Date(end.getTime() - 55 * 86_400_000).toISOString().slice(0, 10));
    await expect(shown('activeUsers')).resolves.toBe(summary.activeUsers.value);
    await expect(shown('newUsers')).resolves.toBe(summary.newUsers.value);
    await expect(shown('stickiness')).resolves.toBe(summary.stickiness.value);
    await expect(shown('openTasks')).resolves.toBe(summary.tasks.open);
    await expect(shown('overdueTasks')).resolves.toBe(summary.tasks.overdue);
    await saveScreenshot(page, 'back-office-overview');

    for (const [route, ready] of [
      ['active-users', 'canvas'],
      ['features', 'tr[data-event="onboarding.started"]'],
      ['features/onboarding.finished', '[data-metric="eventCount"]'],
      ['retention', 'table'],
      ['lifecycle', 'main'],
      ['users', 'tr[data-user-id]'],
      ['audit', 'tr[data-audit-id]'],
    ] as const) {
      await page.goto(`${origin}/admin/#/${route}`);
      await page.locator(ready).first().waitFor();
      await saveScreenshot(page, `back-office-${route.replace('/', '-').replace('.', '-')}`);
    }
    await expectNothingStoredOrRefused(page);
  });

  it("signs in again, without an error, from the identity provider's page reached by Back", async () => {
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.locator('[data-signed-in-as]').waitFor();
    await page.goBack();
    await page.waitForURL((url) => url.pathname === '/oauth2/authorize');
    const stale = new URL(page.url()).searchParams.get('state');
    // The answer carries the first sign-in's state, which this tab no longer waits for: a new sign-in starts.
    await page.getByRole('button', { name: 'Sign in as admin' }).click();
    await page.waitForURL(
      (url) => url.pathname === '/oauth2/authorize' && url.searchParams.get('state') !== stale,
    );
    await page.getByRole('button', { name: 'Sign in as admin' }).click();
    await page.locator('[data-signed-in-as], [role="alert"]').first().waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);
    await expect(page.locator('[data-signed-in-as]').textContent()).resolves.toBe('admin@example.com');
  });

  it('signs out: the refresh token is revoked, and the identity provider is told', async () => {
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    const refreshToken = page
      .waitForResponse((response) => new URL(response.url()).pathname === '/oauth2/token')
      .then(async (response) => ((await response.json()) as { refresh_token: string }).refresh_token);
    await signIn(page, 'admin');
    const token = await refreshToken;
    const refresh = () =>
      request(issuer.url)
        .post('/oauth2/token')
        .type('form')
        .send({ grant_type: 'refresh_token', client_id: DEV_CLIENT_ID, refresh_token: token });
    expect((await refresh()).status).toBe(200);
    // The identity provider's logout, which sends the browser back to the page (and the page on to sign in again).
    const toldProvider = page.waitForRequest((sent) => new URL(sent.url()).pathname === '/logout');
    await page.getByRole('button', { name: 'Sign out' }).click();
    const logout = new URL((await toldProvider).url());
    expect(logout.searchParams.get('client_id')).toBe(DEV_CLIENT_ID);
    expect(new URL(logout.searchParams.get('logout_uri')!).origin).toBe(origin);
    // Revoked before the page leaves (or, past 2 s, by a request that outlives it).
    expect(await until(async () => (await refresh()).status === 400, { timeoutMs: 15_000 })).toBe(true);
    expect((await refresh()).body).toEqual({ error: 'invalid_grant' });
  });

  it("shows a user's latest events, leaving the properties of an event sent without them empty", async () => {
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'admin');
    const { body: users } = await api('/v1/admin/users?q=customer-0').expect(200);
    await page.goto(`${origin}/admin/#/users/${users.items[0].id}`);
    const started = page.locator('tr[data-event="onboarding.started"]');
    await started.waitFor();
    await expect(started.locator('td').nth(2).textContent()).resolves.toBe('');
    await expectNothingStoredOrRefused(page);
  });

  it('draws a funnel: users at each step, as the API counts them', async () => {
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/funnel`);
    await page.getByLabel('Step 1').selectOption('onboarding.started');
    await page.getByLabel('Step 2').selectOption('onboarding.finished');
    await page.getByRole('button', { name: 'Add step' }).click();
    await page.getByLabel('Step 3').selectOption('teammate.invited');
    await page.getByRole('button', { name: 'Draw funnel' }).click();
    const users = async (step: string) =>
      Number(await page.locator(`[data-step="${step}"]`).getAttribute('data-users'));
    await page.locator('[data-step="teammate.invited"]').waitFor();
    expect([
      await users('onboarding.started'),
      await users('onboarding.finished'),
      await users('teammate.invited'),
    ]).toEqual([4, 3, 1]);
    await saveScreenshot(page, 'back-office-funnel');
    await expectNothingStoredOrRefused(page);
  });

  it('offers each event to one step only, and keeps the keyboard focus in the funnel form', async () => {
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/funnel`);
    const focusedId = () => page.evaluate('document.activeElement.id');
    await page.getByLabel('Step 1').selectOption('onboarding.started');
    await expect(page.getByLabel('Step 2').locator('option').allTextContents()).resolves.not.toContain(
      'onboarding.started',
    );
    await page.getByLabel('Step 2').selectOption('onboarding.finished');
    await page.getByRole('button', { name: 'Add step' }).focus();
    await page.keyboard.press('Enter');
    await expect.poll(focusedId).toBe('step-event-3');
    await page.getByRole('button', { name: 'Remove' }).nth(2).focus();
    await page.keyboard.press('Enter');
    await expect.poll(focusedId).toBe('step-event-2');

    const release = await hold(page, /\/analytics\/funnel/);
    const draw = page.getByRole('button', { name: 'Draw funnel' });
    await draw.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => draw.getAttribute('aria-disabled')).toBe('true');
    await expect(focused(page)).resolves.toBe('BUTTON  Draw funnel');
    release();
    await page.locator('[data-step="onboarding.finished"]').waitFor();
    await expect(focused(page)).resolves.toBe('BUTTON  Draw funnel');
    await expectNothingStoredOrRefused(page);
  });

  it('keeps the focus on More while a page loads, then on the list once the last one is in', async () => {
    // Each listing of users is an audit entry: enough for two pages of the audit log.
    for (let i = 0; i < 55; i++) await api('/v1/admin/users?limit=1').expect(200);
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/audit`);
    await page.locator('tr[data-audit-id]').first().waitFor();
    const rows = await page.locator('tr[data-audit-id]').count();
    const release = await hold(page, /\/v1\/admin\/audit\?.*cursor=/);
    const more = page.getByRole('button', { name: 'More' });
    await more.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => more.getAttribute('aria-disabled')).toBe('true');
    await expect(focused(page)).resolves.toBe('BUTTON  More');
    release();
    // Page after page until the last, the focus staying on More meanwhile.
    for (let shown = rows; ;) {
      await expect.poll(() => page.locator('tr[data-audit-id]').count()).toBeGreaterThan(shown);
      shown = await page.locator('tr[data-audit-id]').count();
      await page.locator('[data-more][aria-disabled="true"]').waitFor({ state: 'detached' });
      if ((await more.count()) === 0) break;
      await expect(focused(page)).resolves.toBe('BUTTON  More');
      await page.keyboard.press('Enter');
    }
    await expect.poll(() => page.evaluate('document.activeElement.className')).toBe('table-scroll');
    await expectNothingStoredOrRefused(page);
  });

  it('approves a task from the inbox, which then leaves the list, on a phone-width screen', async () => {
    const page = await browser.page({ viewport: { width: 390, height: 844 } });
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks`);
    const row = page.locator('tr[data-task-id]', { hasText: 'Refund order 1001' });
    const id = await row.getAttribute('data-task-id');
    await saveScreenshot(page, 'back-office-tasks');
    await row.getByRole('button', { name: 'Approve' }).click();
    await row.waitFor({ state: 'detached' });
    await expect(page.locator('tr[data-task-id]', { hasText: 'Refund order 1002' }).count()).resolves.toBe(1);
    const { body: task } = await api(`/v1/tasks/${id}`).expect(200);
    // By the email the access token carries, as Cognito's do through the pool's trigger.
    expect(task).toMatchObject({
      status: 'approved',
      decision: { outcome: 'approved', decidedBy: 'admin@example.com' },
    });

    await page.goto(`${origin}/admin/#/tasks/${id}`);
    await page.locator('[data-task-status]').waitFor();
    await saveScreenshot(page, 'back-office-task');
    await expectNothingStoredOrRefused(page);
  });

  it("never shows one task's page, nor decides it, while another task's page loads", async () => {
    const [first, second] = [await makeTask('Refund order 1004'), await makeTask('Refund order 1005')];
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks/${first.id}`);
    await page.getByRole('heading', { name: 'Refund order 1004' }).waitFor();
    const release = await hold(page, new RegExp(`/v1/tasks/${second.id}$`));
    // As a link pasted into the same tab: only the fragment changes.
    await page.evaluate(`location.hash = '#/tasks/${second.id}'`);
    const heading = page.getByRole('heading', { name: 'Refund order 1004' });
    expect(await until(async () => !(await heading.isVisible()))).toBe(true);
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    release();
    await page.getByRole('heading', { name: 'Refund order 1005' }).waitFor();
    for (const { id } of [first, second]) {
      await expect(api(`/v1/tasks/${id}`).then(({ body }) => body.status)).resolves.toBe('open');
    }
  });

  it("shows none of the previous filter's tasks when the list for a new filter fails to load", async () => {
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks`);
    await page.locator('tr[data-task-id]').first().waitFor();
    await page.route(/\/v1\/admin\/tasks\?.*status=cancelled/, (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        headers: { 'retry-after': '5' },
        body: JSON.stringify({ type: 'about:blank', title: 'Service Unavailable', status: 503 }),
      }),
    );
    await page.getByLabel('Status').selectOption('cancelled');
    await page.getByRole('alert').waitFor();
    expect(await page.locator('tr[data-task-id]').count()).toBe(0);
  });

  it("leaves another operator's claim alone until the admin chooses to take the task over", async () => {
    const { body: task } = await request(origin)
      .post('/v1/tasks')
      .set('authorization', bearer('admin', ['admin']))
      .send({ type: 'approval', title: 'Refund order 1003' })
      .expect(201);
    const { body: claimed } = await request(origin)
      .post(`/v1/admin/tasks/${task.id}/claim`)
      .set('authorization', bearer('bob', ['admin']))
      .expect(200);
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks/${task.id}`);
    await page.getByRole('button', { name: 'Claim' }).click();
    await page.locator(`[data-holder="${claimed.assignee}"]`).waitFor();
    await saveScreenshot(page, 'back-office-task-claimed-by-another');
    await expect(api(`/v1/tasks/${task.id}`).then(({ body }) => body.assignee)).resolves.toBe(
      claimed.assignee,
    );

    await page.getByRole('button', { name: 'Take over' }).click();
    await page.getByText('You claimed this task.').waitFor();
    const { body: now } = await api(`/v1/tasks/${task.id}`).expect(200);
    expect(now.assignee).not.toBe(claimed.assignee);
    expect(now.version).toBe(claimed.version + 1);
    await expectNothingStoredOrRefused(page);
  });

  it('lists what to fix when the API refuses a request as invalid', async () => {
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/active-users`);
    await page.getByLabel('From', { exact: true }).fill('2020-01-01');
    await page.getByRole('button', { name: 'Apply' }).click();
    const alert = page.getByRole('alert');
    await alert.locator('li').first().waitFor();
    const to = await page.getByLabel('To', { exact: true }).inputValue();
    const { body: problem } = await api(`/v1/admin/analytics/active-users?from=2020-01-01&to=${to}`).expect(
      400,
    );
    await expect(alert.locator('li').allTextContents()).resolves.toEqual(
      problem.errors.map(({ detail }: { detail: string }) => detail),
    );
    await saveScreenshot(page, 'back-office-invalid-range');
    await expectNothingStoredOrRefused(page);
  });

  // Whatever the hour, one of these two zones is on another day than UTC, this app's ANALYTICS_TIMEZONE.
  it.each(['Pacific/Kiritimati', 'Pacific/Pago_Pago'])(
    "ends the default range on the analytics time zone's today, not on the browser's (%s)",
    async (timezoneId) => {
      const page = await browser.page({ timezoneId });
      await signIn(page, 'admin');
      const utcToday = () => new Date().toISOString().slice(0, 10);
      const before = utcToday();
      await page.goto(`${origin}/admin/#/active-users`);
      const to = await page.getByLabel('To', { exact: true }).inputValue();
      expect([before, utcToday()]).toContain(to);
      await expectNothingStoredOrRefused(page);
    },
  );

  it('says so when a weekly lifecycle range holds no Monday, instead of showing nothing', async () => {
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/lifecycle`);
    await page.getByLabel('From', { exact: true }).fill('2026-11-24');
    await page.getByLabel('To', { exact: true }).fill('2026-11-29');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByLabel('Week').check();
    await page.getByText('No week starts in this range (weeks start on Monday).').waitFor();
    await expectNothingStoredOrRefused(page);
  });

  it('refuses a signed-in user outside the admin group', async () => {
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'alice');
    await page.getByText('Your account is not in the admin group.').waitFor();
    await expect(page.locator('[data-metric]').count()).resolves.toBe(0);
    await saveScreenshot(page, 'back-office-refused');
    await request(origin)
      .get('/v1/admin/analytics/summary')
      .set('authorization', bearer('alice'))
      .expect(403);
    await expectNothingStoredOrRefused(page);
  });

  const focused = (page: Page) =>
    page.evaluate(`(() => {
      const element = document.activeElement;
      return element.tagName + ' ' + (element.getAttribute('role') ?? '') + ' ' + element.textContent.trim();
    })()`);

  it("shows a firewall's refusal as what it is, keeping the task page and the comment typed", async () => {
    const task = await makeTask('Refund order 2001');
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks/${task.id}`);
    await page.getByLabel('Comment').fill('Looks fine <script>');
    // As the web application firewall answers: a 403 of its own, without the API's WWW-Authenticate.
    await page.route(/\/decision$/, (route) =>
      route.fulfill({
        status: 403,
        contentType: 'application/problem+json',
        body: JSON.stringify({
          type: 'about:blank',
          title: 'Forbidden',
          status: 403,
          detail: 'The web application firewall refused this request.',
        }),
      }),
    );
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('The web application firewall refused this request.').waitFor();
    await expect(page.getByLabel('Comment').inputValue()).resolves.toBe('Looks fine <script>');
    expect(await page.getByText('Your account is not in the admin group.').count()).toBe(0);
  });

  it('stays on the page an operator went to while a decision was under way', async () => {
    const [first, second] = [await makeTask('Refund order 2002'), await makeTask('Refund order 2003')];
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks/${first.id}`);
    const release = await hold(page, new RegExp(`/v1/admin/tasks/${first.id}/decision$`));
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.evaluate(`location.hash = '#/tasks/${second.id}'`);
    await page.getByRole('heading', { name: 'Refund order 2003' }).waitFor();
    await page.getByLabel('Comment').fill('Half typed');
    release();
    expect(await until(async () => (await api(`/v1/tasks/${first.id}`)).body.status === 'approved')).toBe(
      true,
    );
    await browser.settle(page);
    expect(await page.evaluate('location.hash')).toBe(`#/tasks/${second.id}`);
    await expect(page.getByLabel('Comment').inputValue()).resolves.toBe('Half typed');
  });

  it('takes a decided task out of the inbox at once, keeping the rows loaded, the other rows and the focus', async () => {
    for (let index = 0; index < 50; index++) await makeTask(`Bulk ${index}`);
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks`);
    await page.locator('tr[data-task-id]').first().waitFor();
    await page.getByRole('button', { name: 'More' }).click();
    await page.getByRole('button', { name: 'More' }).waitFor({ state: 'detached' });
    const rows = await page.locator('tr[data-task-id]').count();
    expect(rows).toBeGreaterThan(50);

    const [deciding, other] = [
      page.locator('tr[data-task-id]', { hasText: 'Bulk 49' }),
      page.locator('tr[data-task-id]', { hasText: 'Bulk 48' }),
    ];
    const id = await deciding.getAttribute('data-task-id');
    const release = await hold(page, new RegExp(`/v1/admin/tasks/${id}/decision$`));
    await deciding.getByRole('button', { name: 'Approve' }).focus();
    await page.keyboard.press('Enter');
    await expect(
      deciding.getByRole('button', { name: 'Approve' }).getAttribute('aria-disabled'),
    ).resolves.toBe('true');
    await expect(other.getByRole('button', { name: 'Approve' }).getAttribute('aria-disabled')).resolves.toBe(
      'false',
    );
    await expect(focused(page)).resolves.toBe('BUTTON  Approve');
    release();
    await deciding.waitFor({ state: 'detached' });
    await expect(page.locator('tr[data-task-id]').count()).resolves.toBe(rows - 1);
    await expect(focused(page)).resolves.toBe('P status Approved “Bulk 49”.');
    await expectNothingStoredOrRefused(page);
  });

  it('hands the focus to the error when a task decided elsewhere meanwhile takes the button pressed away', async () => {
    // Due first, so at the top of the inbox whatever other tests have left in it.
    const makeUrgentTask = async (title: string) =>
      (
        await request(origin)
          .post('/v1/tasks')
          .set('authorization', bearer('admin', ['admin']))
          .send({ type: 'approval', title, dueAt: new Date(Date.now() + 3_600_000).toISOString() })
          .expect(201)
      ).body as { id: string };
    const [listed, shown] = [
      await makeUrgentTask('Decided elsewhere 1'),
      await makeUrgentTask('Decided elsewhere 2'),
    ];
    const page = await browser.page();
    await signIn(page, 'admin');
    const decideElsewhere = (id: string) =>
      request(origin)
        .post(`/v1/admin/tasks/${id}/decision`)
        .set('authorization', bearer('other-operator', ['admin']))
        .send({ outcome: 'rejected' })
        .expect(200);

    await page.goto(`${origin}/admin/#/tasks`);
    const row = page.locator('tr[data-task-id]', { hasText: 'Decided elsewhere 1' });
    await row.waitFor();
    await decideElsewhere(listed.id);
    await row.getByRole('button', { name: 'Approve' }).focus();
    await page.keyboard.press('Enter');
    await row.waitFor({ state: 'detached' });
    await expect.poll(() => focused(page)).toMatch(/^DIV alert The task is no longer open/);

    await page.goto(`${origin}/admin/#/tasks/${shown.id}`);
    const approve = page.getByRole('button', { name: 'Approve' });
    await approve.waitFor();
    await decideElsewhere(shown.id);
    await approve.focus();
    await page.keyboard.press('Enter');
    await approve.waitFor({ state: 'detached' });
    await expect.poll(() => focused(page)).toMatch(/^DIV alert The task is no longer open/);
    await expectNothingStoredOrRefused(page);
  });

  // Last: its tasks would change the inbox the tests above read.
  it('hands the focus to the list when the last page loads, though the status line says something', async () => {
    for (let index = 0; index < 52; index++) await makeTask(`Paged ${index}`);
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks`);
    const first = page.locator('tr[data-task-id]').first();
    await first.getByRole('button', { name: 'Approve' }).click();
    await page.locator('p.status:not(:empty)').waitFor();
    const more = page.getByRole('button', { name: 'More' });
    while ((await more.count()) > 0) {
      await more.focus();
      await page.keyboard.press('Enter');
      await page.locator('[data-more][aria-disabled="true"]').waitFor({ state: 'detached' });
    }
    await expect.poll(() => page.evaluate('document.activeElement.className')).toBe('table-scroll');
  });

  it('says what a task page did once back in the inbox, whose filters stay as they were, zoned times in it', async () => {
    const task = await makeTask('Refund order 3001');
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks`);
    await page.getByLabel('Type').fill('approval');
    await page.getByRole('button', { name: 'Filter' }).click();
    // The browser's zone, named: emails and link pages give times in UTC.
    const due = page.locator('tr[data-task-id] time').first();
    await expect(due.textContent()).resolves.toMatch(/\d\d:\d\d (UTC|GMT)/);
    await page.evaluate(`location.hash = '#/tasks/${task.id}'`);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL((url) => url.hash === '#/tasks');
    const status = page.locator('p.status');
    await expect.poll(() => status.textContent()).toBe('Approved “Refund order 3001”.');
    await expect(page.getByLabel('Type').inputValue()).resolves.toBe('approval');
    // Another list: what was said of the last one goes.
    await page.getByLabel('Status').selectOption('approved');
    await expect.poll(() => status.textContent()).toBe('');
    await expectNothingStoredOrRefused(page);
  });

  it('keeps a user search when the operator opens a user and comes back', async () => {
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/users`);
    await page.getByLabel('Search users').fill('customer-1');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => page.locator('tr[data-user-id]').count()).toBe(1);
    await page.locator('tr[data-user-id] a').click();
    await page.getByRole('heading', { name: 'User activity' }).waitFor();
    await page.goBack();
    await expect.poll(() => page.locator('tr[data-user-id]').count()).toBe(1);
    await expect(page.getByLabel('Search users').inputValue()).resolves.toBe('customer-1');
  });

  it("changes the other pages' range only when a funnel is drawn, and shows no result the form no longer describes", async () => {
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/funnel`);
    const fromField = page.locator('input[type="date"]').first();
    const from = await fromField.inputValue();
    await page.getByLabel('Step 1').selectOption('onboarding.started');
    await page.getByLabel('Step 2').selectOption('onboarding.finished');
    await page.getByRole('button', { name: 'Draw funnel' }).click();
    await page.locator('[data-step="onboarding.finished"]').waitFor();
    await page.getByLabel('Window').selectOption('PT1H');
    await expect.poll(() => page.locator('[data-step]').count()).toBe(0);

    await fromField.fill('');
    await page.evaluate(`location.hash = '#/active-users'`);
    await page.locator('canvas').first().waitFor();
    await expect(fromField.inputValue()).resolves.toBe(from);
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('shows no share for a cohort without users, rather than 0 %', async () => {
    const page = await browser.page({ viewport: { width: 1280, height: 900 } });
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/retention`);
    await page.locator('table.heatmap').waitFor();
    // Page code, as text: this file is compiled without the DOM's types.
    const emptyCells = await page.evaluate<string[]>(`[...document.querySelectorAll('table.heatmap tbody tr')]
      .filter((row) => row.cells[1].textContent === '0')
      .flatMap((row) => [...row.cells].slice(2).map((cell) => cell.textContent))
      .filter(Boolean)`);
    expect(emptyCells.length).toBeGreaterThan(0);
    expect(new Set(emptyCells)).toEqual(new Set(['—']));
  });

  it('says when the session has ended above the page, keeping what the operator typed', async () => {
    const task = await makeTask('Refund order 3002');
    const page = await browser.page();
    await signIn(page, 'admin');
    await page.goto(`${origin}/admin/#/tasks/${task.id}`);
    await page.getByLabel('Comment').fill('Checked the order twice');
    // The access token refused, and the refresh token too (revoked, or past its 30 days).
    await page.route(/\/decision$/, (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401 }),
      }),
    );
    await page.route(/\/oauth2\/token$/, (route) =>
      route.fulfill({ status: 400, contentType: 'application/json', body: '{"error":"invalid_grant"}' }),
    );
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.getByText('Your session has ended').waitFor();
    await expect(page.getByLabel('Comment').inputValue()).resolves.toBe('Checked the order twice');
    await expect(page.getByRole('button', { name: 'Sign in again' }).count()).resolves.toBe(1);
  });

  /** No token in any storage the page can write, and no CSP violation or page error so far. */
  async function expectNothingStoredOrRefused(page: Page) {
    // Page code, as text: this file is compiled without the DOM's types.
    const stored = await page.evaluate(`(async () => ({
      local: JSON.stringify({ ...localStorage }),
      session: JSON.stringify({ ...sessionStorage }),
      cookies: document.cookie,
      databases: (await indexedDB.databases()).length,
    }))()`);
    expect(stored).toEqual({ local: '{}', session: '{}', cookies: '', databases: 0 });
    await browser.settle(page);
    expect(browser.cspViolations).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
  }
});
