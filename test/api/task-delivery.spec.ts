import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { describe, expect, it, vi } from 'vitest';
import { ProblemException } from '../../src/http/problem.js';
import { loggablePath } from '../../src/http/route-settings.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { TaskCallbacks } from '../../src/tasks/task-callbacks.js';
import { TaskDecisions } from '../../src/tasks/task-decisions.js';
import { TaskLinksRepository } from '../../src/tasks/task-links.repository.js';
import { TaskSchedule } from '../../src/tasks/task-schedule.js';
import { TaskSecrets } from '../../src/tasks/task-secrets.js';
import { TaskTypes } from '../../src/tasks/task-types.js';
import { createTestApp, useTestApp } from '../support/app.js';
import { createTestDatabase } from '../support/database.js';
import { admin, createTask, linkOf, OPERATORS, TASKS_ENV, useAwsEndpoint } from '../support/tasks.js';
import { eventually } from '../support/until.js';

/** What leaves Runway about tasks: emails with single-use links (SES v2) and Step Functions callbacks (SFN). */
describe('task delivery', () => {
  const endpoint = useAwsEndpoint();
  const t = useTestApp({ env: TASKS_ENV });
  const operator = admin();
  /** Arranges a state the API cannot reach now (a task created hours ago), straight in the test database. */
  const query = async (statement: string, id: string) => {
    const client = new pg.Client({ connectionString: t.db.url });
    await client.connect();
    await client.query(statement, [id]).finally(() => client.end());
  };
  /** The emails about one task: found by the task's title, unique per test. */
  const emailsAbout = async (title: string, count = OPERATORS.length) => {
    await endpoint.aws.waitFor(
      (call) =>
        call.operation === 'SendEmail' && call.status === 200 && JSON.stringify(call.input).includes(title),
      20_000,
      count,
    );
    return endpoint.aws.emails().filter((email) => email.subject.includes(title));
  };
  const task = async (id: string) =>
    (await t.http().get(`/v1/tasks/${id}`).set('authorization', operator.authorization)).body;
  /** The email jobs of a task (state and retries), once there are `count` and all are completed. */
  const settled = (taskId: string, count: number) =>
    eventually(async () => {
      const client = new pg.Client({ connectionString: t.db.url });
      await client.connect();
      const { rows } = await client
        .query<{ job: string }>(
          `SELECT state || ' ' || retry_count AS job FROM pgboss.job
           WHERE name = 'tasks.email' AND data->>'taskId' = $1`,
          [taskId],
        )
        .finally(() => client.end());
      const jobs = rows.map(({ job }) => job);
      return jobs.length === count && jobs.every((job) => job.startsWith('completed')) ? jobs : undefined;
    });

  describe('emailed links', () => {
    it('cuts a long description in the email between characters, not inside one', async () => {
      const title = `Long ${Math.random().toString(36).slice(2, 8)}`;
      await createTask(t, { title, description: `${'a'.repeat(279)}😀 and more` });
      const [email] = await emailsAbout(title);
      for (const part of [email!.text!, email!.html!]) {
        expect(part.isWellFormed()).toBe(true);
        expect(part).toContain(`${'a'.repeat(279)}😀…`);
        expect(part).not.toContain('😀 and');
      }
    });

    it.each([
      ['SES refuses', { status: 400, type: 'MessageRejected', message: 'Email address is not verified.' }],
      // A MAIL_FROM outside the task role's SesIdentity.
      [
        'IAM denies',
        { status: 403, type: 'AccessDeniedException', message: 'Not authorized to ses:SendEmail' },
      ],
    ])('gives up at once on an email %s', async (_, failure) => {
      const title = `Refused ${Math.random().toString(36).slice(2, 8)}`;
      endpoint.aws.failNext('SendEmail', failure);
      const refused = await createTask(t, { title });
      // One operator's email is refused, the other's sent; neither is tried again.
      expect(await emailsAbout(title, OPERATORS.length - 1)).toHaveLength(OPERATORS.length - 1);
      expect(await settled(refused.id, OPERATORS.length)).toEqual(OPERATORS.map(() => 'completed 0'));
    });

    it('gives up after 3 hours on an email that keeps failing', async () => {
      // Queued 4 hours ago, as a job retried since then: its next failure is its last.
      const lateTitle = `Late ${Math.random().toString(36).slice(2, 8)}`;
      const late = await createTask(t, { title: lateTitle });
      await emailsAbout(lateTitle);
      endpoint.aws.failNext('SendEmail', { status: 500 }, 3); // the SDK's 3 attempts
      const sent = endpoint.aws.callsOf('SendEmail').length;
      await t.app.get(JobRunner).enqueue('tasks.email', {
        taskId: late.id,
        recipient: OPERATORS[0],
        kind: 'reminder',
        queuedAt: new Date(Date.now() - 4 * 3_600_000).toISOString(),
      });
      await endpoint.aws.waitFor('SendEmail', 20_000, sent + 3);
      expect(await settled(late.id, OPERATORS.length + 1)).toEqual(
        [...OPERATORS, 'reminder'].map(() => 'completed 0'),
      );
    });

    it('emails each operator a link of their own; GET shows, only POST decides; a replay is 410', async () => {
      const title = `Refund ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { title, description: 'Customer asked twice.\nOrder 1001.' });
      const emails = await emailsAbout(title);
      expect(emails.map((email) => email.to[0]).sort()).toEqual([...OPERATORS].sort());
      expect(emails[0]!.subject).toBe(`[Runway] New task: ${title}`);
      // Both parts keep the description's lines.
      expect(emails[0]!.text).toContain('Customer asked twice.\nOrder 1001.');
      expect(emails[0]!.html).toContain(
        // As line breaks every mail client shows (Outlook's renderer ignores CSS white-space).
        '<p>Customer asked twice.<br>Order 1001.</p>',
      );
      const [first, second] = emails.map(linkOf);
      expect(first!.token).not.toBe(second!.token);

      const page = await t.http().get(first!.path);
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.headers['cache-control']).toBe('no-store');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['content-security-policy']).toMatch(/default-src 'none'.*form-action 'self'/);
      expect(page.text).toContain(title);
      // Its lines as written (the page keeps the line breaks), and the due time as the emails show it.
      expect(page.text).toContain('<p class="description">Customer asked twice.\nOrder 1001.</p>');
      expect(page.text).toMatch(/ · due \d{4}-\d\d-\d\d \d\d:\d\d UTC · /);
      expect(page.text).toContain('name="outcome" value="approved"');
      expect((await task(created.id)).status).toBe('open');

      const decided = await t
        .http()
        .post(first!.path)
        .type('form')
        // Control characters (a NUL, which the database cannot store, and an escape) are dropped.
        .send('outcome=approved&comment=Fine%20by%00%20me%1B');
      expect(decided.status).toBe(200);
      expect(decided.text).toContain('Approved');
      const recipient = emails[0]!.to[0];
      expect(await task(created.id)).toMatchObject({
        status: 'approved',
        decision: { outcome: 'approved', comment: 'Fine by me', via: 'email', decidedBy: recipient },
      });
      const replay = await t.http().post(first!.path).type('form').send({ outcome: 'rejected' });
      expect(replay.status).toBe(410);
      expect(replay.text).toContain('already used');
      // A double click or a reload shows that the decision was saved.
      expect(replay.text).toContain(`is approved (by ${recipient})`);
      expect((await t.http().get(first!.path)).status).toBe(410);
      const otherLink = await t.http().post(second!.path).type('form').send({ outcome: 'rejected' });
      expect(otherLink.status).toBe(409);
      expect(otherLink.text).toContain('already decided');
      expect((await task(created.id)).status).toBe('approved');
      const audit = await t
        .http()
        .get(`/v1/admin/audit?actor=${encodeURIComponent(recipient!)}`)
        .set('authorization', operator.authorization);
      expect(audit.body.items[0]).toMatchObject({
        action: 'task.decided',
        via: 'email',
        target: { id: created.id },
      });
    });

    it('sends the same link again when an email job runs again', async () => {
      const title = `Again ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { title });
      await emailsAbout(title);
      // A job run twice: its email left, but the job was not marked done (the instance stopped).
      const job = { taskId: created.id, recipient: OPERATORS[0], kind: 'reminder', linkId: randomUUID() };
      for (let run = 0; run < 2; run++) await t.app.get(JobRunner).enqueue('tasks.email', job);
      const reminders = (await emailsAbout(title, OPERATORS.length + 2)).filter((email) =>
        email.subject.startsWith('[Runway] Due soon'),
      );
      const [first, second] = reminders.map(linkOf);
      expect(first!.path).toBe(second!.path);
      expect((await t.http().get(first!.path)).status).toBe(200);
    });

    it('takes the longest comment the form allows, in any script', async () => {
      const title = `Long ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { title });
      const { path } = linkOf((await emailsAbout(title))[0]!);
      // 2,000 characters of 3 bytes each, 9 once percent-encoded, as a browser sends the form.
      const comment = '承認'.repeat(1000);
      const decided = await t
        .http()
        .post(path)
        .type('form')
        .send(`outcome=approved&comment=${encodeURIComponent(comment)}`);
      expect(decided.status).toBe(200);
      expect((await task(created.id)).decision.comment).toBe(comment);
    });

    it('counts a line break of the comment box as one character, as the box does', async () => {
      const title = `Lines ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { title });
      const { path } = linkOf((await emailsAbout(title))[0]!);
      // 2,000 characters in the box; the browser sends each line break as CRLF.
      const typed = `${'abcd\n'.repeat(399)}THEND`;
      const decided = await t
        .http()
        .post(path)
        .type('form')
        .send(`outcome=rejected&comment=${encodeURIComponent(typed.replaceAll('\n', '\r\n'))}`);
      expect(decided.status).toBe(200);
      expect((await task(created.id)).decision.comment).toBe(typed);
    });

    it('writes each email as an .eml file with MAIL_TRANSPORT=file (npm run dev)', async () => {
      const directory = mkdtempSync(join(tmpdir(), 'runway-mail-'));
      const db = await createTestDatabase();
      const local = await createTestApp({
        databaseUrl: db.url,
        env: { MAIL_TRANSPORT: 'file', MAIL_DIRECTORY: directory, TASKS_NOTIFY_EMAILS: 'dev@example.com' },
      });
      const written = async (count: number) => {
        const files = await eventually(() => {
          const files = readdirSync(directory).filter((name) => name.endsWith('.eml'));
          return Promise.resolve(files.length >= count ? files.sort() : undefined);
        });
        return readFileSync(join(directory, files.at(-1)!), 'utf8');
      };
      /** The parts as a mail client reads them: base64 in lines of at most 76 characters. */
      const parts = (message: string) =>
        [...message.matchAll(/Content-Transfer-Encoding: base64\r\n\r\n([A-Za-z0-9+/=\r\n]+?)\r\n--/g)].map(
          ([, encoded]) => {
            expect(encoded!.split('\r\n').every((line) => line.length <= 76)).toBe(true);
            return Buffer.from(encoded!, 'base64').toString('utf8');
          },
        );
      try {
        await createTask(local, { title: 'Try it locally', description: 'Ünïcode, in 8 bits' });
        const message = await written(1);
        expect(message).toContain('To: dev@example.com');
        expect(message).toContain('Subject: [Runway] New task: Try it locally');
        const [text, html] = parts(message);
        for (const part of [text, html]) {
          expect(part).toContain('Ünïcode, in 8 bits');
          expect(part).toMatch(/http:\/\/localhost:3000\/t\/[A-Za-z0-9_-]{70}/);
        }

        // A subject of many bytes: encoded-words of whole characters, each at most 75 characters, on folded lines.
        const title = `Plan 😀${'é'.repeat(60)}😀`;
        await createTask(local, { title });
        const subject = /^Subject: (.*(?:\r\n .*)*)$/m.exec(await written(2))![1]!;
        const words = subject.split('\r\n ');
        expect(words.length).toBeGreaterThan(1);
        expect(
          words.every((word) => /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(word) && word.length <= 75),
        ).toBe(true);
        const decoded = words.map((word) => Buffer.from(word.slice(10, -2), 'base64').toString('utf8'));
        expect(decoded.every((word) => word.isWellFormed() && !word.includes('\uFFFD'))).toBe(true);
        expect(decoded.join('')).toBe(`[Runway] New task: ${title}`);
      } finally {
        await local.close();
        await db.drop();
        rmSync(directory, { recursive: true, force: true });
      }
    });

    it('answers tampered, unknown and expired links with a page and no change', async () => {
      const title = `Check ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { title });
      const { token } = linkOf((await emailsAbout(title))[0]!);
      const tampered = `${token.slice(0, 20)}${token[20] === 'A' ? 'B' : 'A'}${token.slice(21)}`;
      // The last character carries 2 bits of the token and 4 that decoding ignores: another spelling of the same bytes.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const respelled = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(token.at(-1)!) ^ 1]}`;
      for (const path of [`/t/${tampered}`, `/t/${respelled}`, '/t/not-a-link', `/t/${'A'.repeat(70)}`]) {
        expect((await t.http().get(path)).status).toBe(404);
        expect((await t.http().post(path).type('form').send({ outcome: 'approved' })).status).toBe(404);
      }
      const secrets = t.app.get(TaskSecrets);
      const expired = {
        linkId: '0190a000-0000-7000-8000-00000000e001',
        taskId: created.id,
        recipient: OPERATORS[0]!,
      };
      await t.app.get(TaskLinksRepository).insert({
        id: expired.linkId,
        taskId: created.id,
        recipient: expired.recipient,
        expiresAt: new Date(Date.now() - 1000),
      });
      const expiredToken = secrets.signLink({ ...expired, expiresAt: new Date(Date.now() - 1000) });
      expect(
        (await t.http().post(`/t/${expiredToken}`).type('form').send({ outcome: 'approved' })).status,
      ).toBe(410);
      const badChoice = await t.http().post(`/t/${token}`).type('form').send({ outcome: 'maybe' });
      expect(badChoice.status).toBe(400);
      const twoChoices = await t
        .http()
        .post(`/t/${token}`)
        .type('form')
        .send('outcome=approved&outcome=rejected');
      expect(twoChoices.status).toBe(400);
      expect(twoChoices.text).toContain('Choose Approve or Reject');
      expect((await task(created.id)).status).toBe('open');
      // The path is the secret: problems (and logs, spans) show the route pattern.
      const wrongType = await t.http().post(`/t/${token}`).set('content-type', 'text/csv').send('a,b');
      expect(wrongType.status).toBe(415);
      expect(wrongType.body.instance).toBe('/t/:token');
      // The page posts a form, and the link takes nothing else: no JSON either.
      const json = await t.http().post(`/t/${token}`).send({ outcome: 'approved' });
      expect(json.status).toBe(415);
      expect(json.body.instance).toBe('/t/:token');
      const wrongMethod = await t.http().put(`/t/${token}`).send({});
      expect(wrongMethod.status).toBe(405);
      expect(wrongMethod.body.instance).toBe('/t/:token');
      expect((await t.http().get(`/t/${token}/more`)).body.instance).toBe('/t/:token');
      for (const [path, status] of [
        [`/t/${token}/`, 404],
        [`/t/${token}/more?x=1`, 404],
        // As a mail client or a base URL with a trailing slash may mangle a link.
        [`//t/${token}`, 404],
        [`/T/${token}`, 404],
        [`/t/${token}%ZZ`, 400],
        // Encoded as the router decodes it, with an escape that is none anywhere.
        [`/%74/${token}%`, 400],
        [`/%74/${token}/%ZZ`, 400],
        [`/t%2F${token}%ZZ`, 400],
        [`/t/${token}${'a'.repeat(100)}`, 414],
      ] as const) {
        const answer = await t.http().get(path);
        expect(answer.status).toBe(status);
        expect(answer.text).not.toContain(token);
        expect(answer.body.instance).toBe('/t/:token');
      }
      // Paths an HTTP client would normalise before sending, which scripts and scanners send as they are.
      for (const path of [`/./t/${token}`, `/x/../t/${token}`, `/t\\${token}`, `/t/${token}/../${token}`]) {
        expect(loggablePath(path)).toBe('/t/:token');
      }
      expect(loggablePath('/../v1/projects/t/x')).toBe('/../v1/projects/t/x');
      // Only under /t/: an API path with a `t` segment keeps its own path.
      expect((await t.http().get('/v1/projects/t/x')).body.instance).toBe('/v1/projects/t/x');
      // The router decodes the path before matching, and so does the masking.
      expect((await t.http().get(`/%74/${token}`)).text).toContain('<form');
      const encoded = await t.http().post(`/%74/${token}`).set('content-type', 'text/csv').send('a,b');
      expect(encoded.status).toBe(415);
      expect(encoded.body.instance).toBe('/t/:token');
      // Forms are accepted on these pages only.
      const form = await t
        .http()
        .post('/v1/tasks')
        .set('authorization', operator.authorization)
        .type('form')
        .send({ type: 'approval', title: 'x' });
      expect(form.status).toBe(415);
    });

    it('answers a browser a page, not JSON, when a link cannot be served (415, 413, a mangled link), and a script problem+json', async () => {
      const title = `Pages ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { title });
      const { token } = linkOf((await emailsAbout(title))[0]!);
      const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
      for (const request of [
        () => t.http().post(`/t/${token}`).set('content-type', 'text/csv').send('a,b'),
        () =>
          t
            .http()
            .post(`/t/${token}`)
            .type('form')
            .send({ outcome: 'approved', comment: 'x'.repeat(40 * 1024) }),
      ]) {
        const page = await request().set('accept', browser);
        expect([415, 413]).toContain(page.status);
        expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(page.headers['content-security-policy']).toContain("default-src 'none'");
        expect(page.text).toMatch(/<h1>(Unsupported Media Type|Payload Too Large)<\/h1>/);
        expect(page.text).not.toContain(token);
        const script = await request();
        expect(script.status).toBe(page.status);
        expect(script.headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      // A link mangled on its way: no route matches, and a person still reads a page.
      for (const [path, status] of [
        [`/t/${token}/`, 404],
        [`//t/${token}`, 404],
        [`/t/${token}%ZZ`, 400],
        [`/t/${token}${'a'.repeat(100)}`, 414],
      ] as const) {
        const page = await t.http().get(path).set('accept', browser);
        expect(page.status).toBe(status);
        expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(page.headers['content-security-policy']).toContain("default-src 'none'");
        expect(page.text).not.toContain(token);
        expect((await t.http().get(path)).headers['content-type']).toMatch(/^application\/problem\+json/);
      }
      expect((await task(created.id)).status).toBe('open');
    });

    it('says where a task that can no longer be decided stands, whether its link has expired or not', async () => {
      const title = `Closed ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { title });
      const { token } = linkOf((await emailsAbout(title))[0]!);
      // A link expires with its task, or before it: an expired link must not send people to decide a closed task.
      const stale = {
        linkId: '0190a000-0000-7000-8000-00000000e002',
        taskId: created.id,
        recipient: OPERATORS[0]!,
      };
      const expiresAt = new Date(Date.now() - 1000);
      await t.app.get(TaskLinksRepository).insert({ id: stale.linkId, ...stale, expiresAt });
      const staleToken = t.app.get(TaskSecrets).signLink({ ...stale, expiresAt });
      const whileOpen = await t.http().get(`/t/${staleToken}`);
      expect([whileOpen.status, whileOpen.text]).toEqual([410, expect.stringContaining('still open')]);

      await t
        .http()
        .post(`/v1/tasks/${created.id}/cancel`)
        .set('authorization', operator.authorization)
        .send({ reason: 'not needed' })
        .expect(200);
      for (const link of [token, staleToken]) {
        const page = await t.http().get(`/t/${link}`);
        expect(page.status).toBe(409);
        expect(page.text).toContain('This task was cancelled');
        expect(page.text).not.toContain('already decided');
      }
    });

    it('emails people when the automation of a type fails', async () => {
      t.app.get(TaskTypes).define({
        name: 'test.failing-automation',
        payload: z.object({}),
        decide: () => Promise.reject(new Error('the rules engine is down')),
      });
      t.app.get(TaskTypes).define({
        name: 'test.unsaved-automation',
        payload: z.object({}),
        decide: () => Promise.resolve({ outcome: 'approved' as const }),
        onDecided: () => Promise.reject(new Error('the ledger refuses it')),
      });
      // A problem (as the API would answer it) from the automation's own code, not about the task.
      t.app.get(TaskTypes).define({
        name: 'test.refusing-automation',
        payload: z.object({}),
        decide: () => Promise.reject(new ProblemException(409, { detail: 'The ledger is busy.' })),
      });
      for (const type of ['test.failing-automation', 'test.unsaved-automation', 'test.refusing-automation']) {
        const title = `Automation ${Math.random().toString(36).slice(2, 8)}`;
        const created = await createTask(t, { type, title, payload: {} });
        expect(await emailsAbout(title)).toHaveLength(OPERATORS.length);
        expect((await task(created.id)).status).toBe('open');
      }
    });

    it('emails people once when the automation leaving a task to them runs again', async () => {
      t.app.get(TaskTypes).define({
        name: 'test.undecided-automation',
        payload: z.object({}),
        decide: () => Promise.resolve(undefined),
      });
      const title = `Undecided ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { type: 'test.undecided-automation', title, payload: {} });
      await emailsAbout(title);
      // As pg-boss runs a job again when its instance stopped before the job was marked done.
      await t.app
        .get<TaskSchedule, { automate(id: string): Promise<void> }>(TaskSchedule)
        .automate(created.id);
      const client = new pg.Client({ connectionString: t.db.url });
      await client.connect();
      const { rows } = await client
        .query(`SELECT 1 FROM pgboss.job WHERE name = 'tasks.email' AND data->>'taskId' = $1`, [created.id])
        .finally(() => client.end());
      expect(rows).toHaveLength(OPERATORS.length);
      expect(await emailsAbout(title)).toHaveLength(OPERATORS.length);
    });

    it("goes by the database's clock when a task expires as it is decided", async () => {
      const title = `Clock ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, {
        title,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
      const { token } = linkOf((await emailsAbout(title))[0]!);
      await query(`UPDATE tasks SET expires_at = now() - interval '1 minute' WHERE id = $1`, created.id);
      // The app's clock an hour behind the database's: its own checks still see an open task.
      const now = Date.now.bind(Date);
      const behind = vi.spyOn(Date, 'now').mockImplementation(() => now() - 3_600_000);
      try {
        const page = await t.http().post(`/t/${token}`).type('form').send({ outcome: 'approved' });
        expect([page.status, page.text]).toEqual([410, expect.stringContaining('This task has expired')]);
        const refused = await t.app
          .get(TaskDecisions)
          .decide(
            created.id,
            { outcome: 'approved' },
            { kind: 'user', id: 'x', name: OPERATORS[0]!, via: 'api' },
          )
          .then(
            () => undefined,
            (error: unknown) => (error as ProblemException).getStatus(),
          );
        expect(refused).toBe(409);
      } finally {
        behind.mockRestore();
      }
      expect((await task(created.id)).status).toBe('open');
    });

    it('lets exactly one of an API decision and an emailed link win', async () => {
      for (let round = 0; round < 3; round++) {
        const title = `Race ${round} ${Math.random().toString(36).slice(2, 8)}`;
        const created = await createTask(t, { title });
        const { path } = linkOf((await emailsAbout(title))[0]!);
        const [byApi, byEmail] = await Promise.all([
          t
            .http()
            .post(`/v1/admin/tasks/${created.id}/decision`)
            .set('authorization', operator.authorization)
            .send({ outcome: 'rejected' }),
          t.http().post(path).type('form').send({ outcome: 'approved' }),
        ]);
        expect([byApi.status, byEmail.status].sort()).toEqual([200, 409]);
        const final = await task(created.id);
        expect(final.status).toBe(byApi.status === 200 ? 'rejected' : 'approved');
      }
    });

    it('reminds before the due date and escalates after it, once each', async () => {
      const title = `Remind ${Math.random().toString(36).slice(2, 8)}`;
      const created = await createTask(t, { title });
      await emailsAbout(title);
      const sql = (statement: string) => query(statement, created.id);
      await sql(
        `UPDATE tasks SET created_at = now() - interval '20 hours', due_at = now() + interval '4 hours' WHERE id = $1`,
      );
      await t.app.get(TaskSchedule).sweep();
      await t.app.get(TaskSchedule).sweep();
      await emailsAbout(title, OPERATORS.length * 2);
      await sql(`UPDATE tasks SET due_at = now() - interval '1 minute' WHERE id = $1`);
      await t.app.get(TaskSchedule).sweep();
      const all = await emailsAbout(title, OPERATORS.length * 3);
      await t.app.get(TaskSchedule).sweep();
      expect(all.map((email) => email.subject.split(':')[0]).sort()).toEqual(
        ['New task', 'New task', 'Due soon', 'Due soon', 'Overdue', 'Overdue']
          .map((s) => `[Runway] ${s}`)
          .sort(),
      );
      expect(endpoint.aws.emails().filter((email) => email.subject.includes(title))).toHaveLength(6);
    });
  });

  describe('Step Functions callbacks', () => {
    const withToken = (token: string) => createTask(t, { taskToken: token, title: `Workflow ${token}` });

    it('sends SendTaskSuccess with the decision when approved', async () => {
      const created = await withToken('token-approve');
      const decided = await t
        .http()
        .post(`/v1/admin/tasks/${created.id}/decision`)
        .set('authorization', operator.authorization)
        .send({ outcome: 'approved', comment: 'go' });
      const [call] = await endpoint.aws.waitFor(
        (c) =>
          c.operation === 'SendTaskSuccess' &&
          c.status === 200 &&
          (c.input as { taskToken: string }).taskToken === 'token-approve',
      );
      expect(JSON.parse((call!.input as { output: string }).output)).toEqual({
        taskId: created.id,
        outcome: 'approved',
        comment: 'go',
        decidedBy: expect.stringContaining('@'),
        decidedAt: expect.any(String),
      });
      expect(
        await eventually(async () =>
          (await task(created.id)).callback.status === 'delivered' ? true : undefined,
        ),
      ).toBe(true);
      // Another body, another version: a client comparing ETags sees the callback settle.
      const settledTask = await t
        .http()
        .get(`/v1/tasks/${created.id}`)
        .set('authorization', operator.authorization);
      expect(settledTask.headers.etag).not.toBe(decided.headers.etag);
      expect(Date.parse(settledTask.body.updatedAt)).toBeGreaterThan(Date.parse(decided.body.updatedAt));
    });

    it.each([
      ['rejected', 'Runway.Rejected'],
      ['cancelled', 'Runway.Cancelled'],
      ['expired', 'Runway.Expired'],
    ])('sends SendTaskFailure when %s (%s)', async (outcome, error) => {
      const token = `token-${outcome}`;
      const created = await withToken(token);
      const path = `/v1/admin/tasks/${created.id}`;
      if (outcome === 'rejected')
        await t
          .http()
          .post(`${path}/decision`)
          .set('authorization', operator.authorization)
          .send({ outcome, comment: 'no' });
      if (outcome === 'cancelled')
        await t
          .http()
          .post(`${path}/cancel`)
          .set('authorization', operator.authorization)
          .send({ reason: 'no' });
      if (outcome === 'expired') {
        await query('UPDATE tasks SET expires_at = now() WHERE id = $1', created.id);
        await t.app.get(TaskSchedule).sweep();
      }
      const [call] = await endpoint.aws.waitFor(
        (c) => c.operation === 'SendTaskFailure' && (c.input as { taskToken: string }).taskToken === token,
      );
      expect(call!.input).toMatchObject({
        error,
        cause: outcome === 'expired' ? 'The task was expired.' : 'no',
      });
    });

    it('retries after a 500, and records a final error (TaskTimedOut) without retrying', async () => {
      endpoint.aws.failNext('SendTaskSuccess', { status: 500 });
      const retried = await withToken('token-retry');
      await t
        .http()
        .post(`/v1/admin/tasks/${retried.id}/decision`)
        .set('authorization', operator.authorization)
        .send({ outcome: 'approved' });
      const calls = await endpoint.aws.waitFor(
        (c) =>
          c.operation === 'SendTaskSuccess' && (c.input as { taskToken: string }).taskToken === 'token-retry',
        20_000,
        2,
      );
      expect(calls.map((c) => c.status)).toEqual([500, 200]);
      await eventually(async () =>
        (await task(retried.id)).callback.status === 'delivered' ? true : undefined,
      );

      endpoint.aws.failNext('SendTaskSuccess', {
        status: 400,
        type: 'TaskTimedOut',
        message: 'Task Timed Out',
      });
      const timedOut = await withToken('token-timed-out');
      await t
        .http()
        .post(`/v1/admin/tasks/${timedOut.id}/decision`)
        .set('authorization', operator.authorization)
        .send({ outcome: 'approved' });
      const failed = await eventually(async () => {
        const body = await task(timedOut.id);
        return body.callback.status === 'failed' ? body : undefined;
      });
      expect(failed.callback.reason).toMatch(/^TaskTimedOut/);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      expect(
        endpoint.aws.callsOf('SendTaskSuccess').filter((c) => c.input.taskToken === 'token-timed-out'),
      ).toHaveLength(1);
    });

    it('ends a call left unanswered after 10 s and lets the SDK retry it', async () => {
      endpoint.aws.stallNext('SendTaskSuccess');
      const created = await withToken('token-stalled');
      await t
        .http()
        .post(`/v1/admin/tasks/${created.id}/decision`)
        .set('authorization', operator.authorization)
        .send({ outcome: 'approved' });
      const [stalled, answered] = await endpoint.aws.waitFor(
        (c) => c.operation === 'SendTaskSuccess' && c.input.taskToken === 'token-stalled',
        40_000,
        2,
      );
      // The SDK's second attempt of the same call, well before the job's 60 s expiry would run it again.
      expect([stalled!.status, stalled!.attempt, answered!.status, answered!.attempt]).toEqual([
        0, 1, 200, 2,
      ]);
      expect(answered!.invocationId).toBe(stalled!.invocationId);
      expect(answered!.at.getTime() - stalled!.at.getTime()).toBeGreaterThanOrEqual(9_000);
      await eventually(async () =>
        (await task(created.id)).callback.status === 'delivered' ? true : undefined,
      );
    });

    it('says an earlier attempt may have resumed the execution when a retry of the SDK meets a final error', async () => {
      endpoint.aws.failNext('SendTaskSuccess', { status: 500 });
      endpoint.aws.failNext('SendTaskSuccess', {
        status: 400,
        type: 'TaskTimedOut',
        message: 'Task Timed Out',
      });
      const created = await withToken('token-lost-answer');
      await t
        .http()
        .post(`/v1/admin/tasks/${created.id}/decision`)
        .set('authorization', operator.authorization)
        .send({ outcome: 'approved' });
      const failed = await eventually(async () => {
        const body = await task(created.id);
        return body.callback.status === 'failed' ? body : undefined;
      });
      expect(failed.callback.reason).toBe(
        'TaskTimedOut: the execution stopped waiting (timed out, or already answered) (an earlier attempt may have resumed it)',
      );
    });

    it('records a callback still failing 24 hours after the decision as failed', async () => {
      endpoint.aws.failNext('SendTaskSuccess', { status: 500 }, 3);
      const created = await withToken('token-give-up');
      await t
        .http()
        .post(`/v1/admin/tasks/${created.id}/decision`)
        .set('authorization', operator.authorization)
        .send({ outcome: 'approved' });
      await endpoint.aws.waitFor(
        (c) => c.operation === 'SendTaskSuccess' && c.input.taskToken === 'token-give-up',
        20_000,
        3,
      );
      await query(`UPDATE tasks SET decided_at = now() - interval '25 hours' WHERE id = $1`, created.id);
      endpoint.aws.failNext('SendTaskSuccess', { status: 500 }, 3);
      await t.app.get(TaskCallbacks).deliver(created.id);
      const { callback } = await task(created.id);
      expect(callback).toEqual({
        status: 'failed',
        reason: 'InternalFailure: still failing 24 hours after the decision',
      });
    });

    it('delivers a decision whose instance went away before the call succeeded, once', async () => {
      // The first instance decides; every attempt it makes fails, then it stops. Another instance delivers.
      const first = await createTestApp({ databaseUrl: t.db.url, env: TASKS_ENV });
      endpoint.aws.failNext('SendTaskSuccess', { status: 500 }, 3);
      const created = await createTask(first, { taskToken: 'token-crash', title: 'Crash' });
      await first
        .http()
        .post(`/v1/admin/tasks/${created.id}/decision`)
        .set('authorization', operator.authorization)
        .send({ outcome: 'approved' });
      await endpoint.aws.waitFor(
        (c) => c.operation === 'SendTaskSuccess' && c.input.taskToken === 'token-crash',
        20_000,
        3,
      );
      await first.close();
      const delivered = await endpoint.aws.waitFor(
        (c) => c.operation === 'SendTaskSuccess' && c.input.taskToken === 'token-crash' && c.status === 200,
        60_000,
      );
      expect(delivered).toHaveLength(1);
      await eventually(
        async () => ((await task(created.id)).callback.status === 'delivered' ? true : undefined),
        30_000,
      );
    });
  });
});
