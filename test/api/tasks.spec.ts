import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCOPES } from '../../src/auth/scopes.js';
import { TASK_TYPE_NAME } from '../../src/tasks/tasks.dto.js';
import { TaskSchedule } from '../../src/tasks/task-schedule.js';
import { TaskTokens } from '../../src/tasks/task-tokens.js';
import { TaskTypes } from '../../src/tasks/task-types.js';
import { TaskStatisticsRepository } from '../../src/tasks/task-statistics.repository.js';
import { z } from 'zod';
import { useTestApp } from '../support/app.js';
import { resourceFactory, uniqueName } from '../support/factories.js';
import { admin, createTask, workflow } from '../support/tasks.js';
import { someoneWaitsForLock } from '../support/database.js';
import { eventually } from '../support/until.js';
import { machine, TEST_CLIENT_ID, token, user } from '../support/tokens.js';

/** Manual tasks through the API: creating, the inbox, claims, decisions, cancellations, the audit log. */
describe('tasks', () => {
  const OTHER_CLIENT = 'runway-test-other-client';
  const t = useTestApp({ env: { COGNITO_CLIENT_ID: `${TEST_CLIENT_ID},${OTHER_CLIENT}` } });
  let sql: pg.Client;
  const operator = admin();
  beforeAll(async () => {
    sql = new pg.Client({ connectionString: t.db.url });
    // The database is dropped while this client is still open: its termination is expected.
    sql.on('error', () => undefined);
    await sql.connect();
    return () => sql.end();
  });
  const as = (caller: { authorization: string }) => ({
    get: (path: string) => t.http().get(path).set('authorization', caller.authorization),
    post: (path: string, body?: object, headers: Record<string, string> = {}) =>
      t.http().post(path).set('authorization', caller.authorization).set(headers).send(body),
    delete: (path: string) => t.http().delete(path).set('authorization', caller.authorization),
  });

  describe('POST /v1/tasks', () => {
    it('creates a task for a workflow: 201, ETag, Location, and the token never shown', async () => {
      const client = workflow();
      const response = await as(client).post('/v1/tasks', {
        type: 'approval',
        title: '  Refund order 42 ',
        payload: { orderId: '42' },
        taskToken: 'AQCEAAAAKgAAAAMAAAAAAAAAAS-secret-token',
      });
      expect(response.status).toBe(201);
      expect(response.headers.etag).toBe('"1"');
      expect(response.headers.location).toBe(`/v1/tasks/${response.body.id}`);
      expect(response.body).toMatchObject({
        type: 'approval',
        title: 'Refund order 42',
        description: '',
        payload: { orderId: '42' },
        status: 'open',
        assignee: null,
        expiresAt: null,
        decision: null,
        callback: { status: 'pending', reason: null },
        createdBy: { kind: 'machine' },
        version: 1,
      });
      expect(JSON.stringify(response.body)).not.toContain('secret-token');
      // Due in 24 h by default.
      expect(Date.parse(response.body.dueAt) - Date.parse(response.body.createdAt)).toBeCloseTo(
        86_400_000,
        -4,
      );
      // At rest the token is encrypted.
      const { rows } = await sql.query('SELECT task_token FROM tasks WHERE id = $1', [response.body.id]);
      expect((rows[0].task_token as Buffer).toString('latin1')).not.toContain('secret-token');
    });

    it('makes one task of a Step Functions token, however often and however concurrently it is sent', async () => {
      const body = { type: 'approval', title: 'Once', taskToken: `token-once-${randomUUID()}` };
      const sends = await Promise.all([1, 2, 3].map(() => as(workflow()).post('/v1/tasks', body)));
      expect(sends.map((send) => send.status)).toEqual([201, 201, 201]);
      const ids = new Set(sends.map((send) => send.body.id));
      expect(ids.size).toBe(1);
      expect(sends.filter((send) => send.headers['idempotent-replayed'] === 'true')).toHaveLength(2);
      const [id] = ids;
      // Sent again after it was cancelled (a dead letter redriven days later): the task as it is, not a new one.
      expect((await as(workflow()).post(`/v1/tasks/${id}/cancel`, { reason: 'test' })).status).toBe(200);
      const again = await as(workflow()).post('/v1/tasks', body);
      expect(again.body).toMatchObject({ id, status: 'cancelled' });
      expect(again.headers['idempotent-replayed']).toBe('true');
      const { rows } = await sql.query(
        `SELECT count(*)::int AS tasks, (SELECT count(*)::int FROM audit_log WHERE target_id = $1::text
           AND action = 'task.created') AS created FROM tasks WHERE title = 'Once'`,
        [id],
      );
      expect(rows[0]).toEqual({ tasks: 1, created: 1 });
      expect(
        (await as(workflow()).post('/v1/tasks', { ...body, taskToken: `${body.taskToken}-2` })).body.id,
      ).not.toBe(id);
    });

    it('finds the task of a token sent again after its expiresAt, and tasks made before tokens had digests', async () => {
      const expiring = { type: 'approval', title: 'Expiring', taskToken: `token-${randomUUID()}` };
      const first = await as(workflow()).post('/v1/tasks', {
        ...expiring,
        expiresAt: new Date(Date.now() + 1_500).toISOString(),
      });
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      const late = await as(workflow()).post('/v1/tasks', {
        ...expiring,
        expiresAt: new Date(Date.now() - 500).toISOString(),
      });
      expect([late.status, late.body.id, late.headers['idempotent-replayed']]).toEqual([
        201,
        first.body.id,
        'true',
      ]);

      const older = { type: 'approval', title: 'Older', taskToken: `token-${randomUUID()}` };
      const made = await as(workflow()).post('/v1/tasks', older);
      await sql.query('UPDATE tasks SET task_token_digest = NULL WHERE id = $1', [made.body.id]);
      // As in a process started before: digests of older tasks are made once a process looks a token up.
      t.app.get<TaskTokens, { olderDigested: boolean }>(TaskTokens).olderDigested = false;
      // The first lookup is in a request whose transaction then rolls back: the digests it made stay.
      const refused = await as(workflow()).post(
        '/v1/tasks',
        { ...older, taskToken: `token-${randomUUID()}`, dueAt: '2001-01-01T00:00:00Z' },
        { 'idempotency-key': randomUUID() },
      );
      expect(refused.status).toBe(400);
      const again = await as(workflow()).post('/v1/tasks', older);
      expect([again.status, again.body.id]).toEqual([201, made.body.id]);
    });

    it('stores a payload as sent, fields named like Object.prototype members included', async () => {
      const payload = { a: 1, toString: 2, constructor: { valueOf: 3 }, list: [{ hasOwnProperty: 4 }] };
      const response = await as(workflow()).post('/v1/tasks', { type: 'approval', title: 'x', payload });
      expect(response.status).toBe(201);
      expect(response.body.payload).toEqual(payload);
      const { rows } = await sql.query('SELECT payload FROM tasks WHERE id = $1', [response.body.id]);
      expect(rows[0].payload).toEqual(payload);
    });

    it('lets admins create tasks, recorded as created by that user', async () => {
      const response = await as(operator).post('/v1/tasks', { type: 'approval', title: 'By hand' });
      expect(response.status).toBe(201);
      expect(response.body.createdBy.kind).toBe('user');
      expect(response.body.callback).toBeNull();
    });

    it.each([
      [{ title: 'x' }, '/type'],
      [{ type: 'approval' }, '/title'],
      [{ type: 'approval', title: '' }, '/title'],
      [{ type: 'approval', title: 'line one\nline two' }, '/title'],
      [{ type: 'approval', title: 'x', description: 'escape \u001b[2J' }, '/description'],
      [{ type: 'Approval!', title: 'x' }, '/type'],
      [{ type: 'approval', title: 'x', payload: [1] }, '/payload'],
      [{ type: 'approval', title: 'x', payload: { big: 'x'.repeat(17 * 1024) } }, '/payload'],
      [{ type: 'approval', title: 'x', dueAt: 'tomorrow' }, '/dueAt'],
      [{ type: 'approval', title: 'x', dueAt: '2030-W01-1' }, '/dueAt'],
      [{ type: 'approval', title: 'x', expiresAt: '2030-123' }, '/expiresAt'],
      [{ type: 'approval', title: 'x', dueAt: '2030-12-05T10:00:00' }, '/dueAt'],
      [{ type: 'approval', title: 'x', expiresAt: '2030-12-05' }, '/expiresAt'],
      [{ type: 'approval', title: 'x', dueAt: '2020-01-01T00:00:00Z' }, '/dueAt'],
      [{ type: 'approval', title: 'x', expiresAt: '2999-01-01T00:00:00Z' }, '/expiresAt'],
      [{ type: 'approval', title: 'x', subjectUserId: 'me' }, '/subjectUserId'],
      [{ type: 'approval', title: 'x', taskToken: '' }, '/taskToken'],
      [{ type: 'approval', title: 'x', status: 'approved' }, '/status'],
      [{ type: 'project.review', title: 'x', payload: { projectId: 'nope' } }, '/payload/projectId'],
    ])('answers 400 naming the field: %j', async (body, pointer) => {
      const response = await as(workflow()).post('/v1/tasks', body);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.body.errors.map((error: { pointer: string }) => error.pointer)).toContain(pointer);
    });

    it('answers 422 for an unknown type or subject user', async () => {
      const unknownType = await as(workflow()).post('/v1/tasks', { type: 'no.such.type', title: 'x' });
      expect(unknownType.status).toBe(422);
      expect(unknownType.body.detail).toContain('approval');
      const unknownUser = await as(workflow()).post('/v1/tasks', {
        type: 'approval',
        title: 'x',
        subjectUserId: '0190a000-0000-7000-8000-000000000000',
      });
      expect(unknownUser.status).toBe(422);
    });

    it('honours Idempotency-Key: a retry returns the same task, another body is a 422', async () => {
      const client = workflow();
      const key = { 'idempotency-key': uniqueName('sfn-execution') };
      const first = await as(client).post('/v1/tasks', { type: 'approval', title: 'Once' }, key);
      const again = await as(client).post('/v1/tasks', { type: 'approval', title: 'Once' }, key);
      expect(again.status).toBe(201);
      expect(again.body.id).toBe(first.body.id);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const other = await as(client).post('/v1/tasks', { type: 'approval', title: 'Twice' }, key);
      expect(other.status).toBe(422);
    });

    it('lets a type decide by itself once automated, through the same endpoint', async () => {
      t.app.get(TaskTypes).define({
        name: 'test.automated',
        payload: z.object({ amount: z.number() }),
        decide: ({ payload }) =>
          Promise.resolve(
            payload.amount < 100 ? { outcome: 'approved', comment: 'small amount' } : undefined,
          ),
      });
      const { medianSecondsToDecision } = await t.app.get(TaskStatisticsRepository).statistics(7);
      const small = await createTask(t, { type: 'test.automated', payload: { amount: 5 } });
      const large = await createTask(t, { type: 'test.automated', payload: { amount: 500 } });
      const decided = await eventually(async () => {
        const { body } = await as(workflow()).get(`/v1/tasks/${small.id}`);
        return body.status === 'open' ? undefined : body;
      });
      expect(decided.decision).toMatchObject({ outcome: 'approved', via: 'system', decidedBy: 'system' });
      expect((await as(workflow()).get(`/v1/tasks/${large.id}`)).body.status).toBe('open');
      // The median time to a decision is a person's: automation's seconds do not count.
      expect((await t.app.get(TaskStatisticsRepository).statistics(7)).medianSecondsToDecision).toBe(
        medianSecondsToDecision,
      );
    });
  });

  describe('GET /v1/tasks/:id', () => {
    it('shows a task to readers and admins; 404 when missing, 400 for a malformed id', async () => {
      const task = await createTask(t);
      expect((await as(machine(SCOPES.tasksRead)).get(`/v1/tasks/${task.id}`)).body.id).toBe(task.id);
      expect((await as(operator).get(`/v1/tasks/${task.id}`)).status).toBe(200);
      expect((await as(machine(SCOPES.tasksWrite)).get(`/v1/tasks/${task.id}`)).status).toBe(403);
      expect((await as(operator).get('/v1/tasks/0190a000-0000-7000-8000-000000000000')).status).toBe(404);
      expect((await as(operator).get('/v1/tasks/42')).status).toBe(400);
    });
  });

  describe('the inbox', () => {
    it('lists open tasks overdue first, then by due date, then oldest; pages with a cursor', async () => {
      const type = `test.inbox.${Math.random().toString(36).slice(2, 8)}`;
      t.app.get(TaskTypes).define({ name: type, payload: z.object({}) });
      const later = await createTask(t, {
        type,
        payload: {},
        dueAt: new Date(Date.now() + 9 * 3600e3).toISOString(),
      });
      const soon = await createTask(t, {
        type,
        payload: {},
        dueAt: new Date(Date.now() + 3600e3).toISOString(),
      });
      const sameDue = await createTask(t, {
        type,
        payload: {},
        dueAt: new Date(Date.now() + 9 * 3600e3).toISOString(),
      });
      const overdue = await createTask(t, { type, payload: {} });
      await sql.query(`UPDATE tasks SET due_at = now() - interval '1 hour' WHERE id = $1`, [overdue.id]);
      await sql.query(`UPDATE tasks SET due_at = (SELECT due_at FROM tasks WHERE id = $1) WHERE id = $2`, [
        later.id,
        sameDue.id,
      ]);
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await as(operator).get(
          `/v1/admin/tasks?type=${type}&limit=3${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.status).toBe(200);
        ids.push(...page.body.items.map((item: { id: string }) => item.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      expect(ids).toEqual([overdue.id, soon.id, later.id, sameDue.id]);
      expect((await as(operator).get(`/v1/admin/tasks?type=${type}&status=approved`)).body.items).toEqual([]);
    });

    it('takes an empty type or assignee as no filter, as the other admin filters', async () => {
      const all = await as(operator).get('/v1/admin/tasks?limit=5');
      for (const filter of ['type=', 'assignee=', 'type=&assignee=']) {
        const empty = await as(operator).get(`/v1/admin/tasks?limit=5&${filter}`);
        expect(empty.status).toBe(200);
        expect(empty.body).toEqual(all.body);
      }
    });

    it('declares in the OpenAPI document the type pattern it holds tasks and filters to', async () => {
      const { body: document } = await t.http().get('/openapi.json');
      const filter = document.paths['/v1/admin/tasks'].get.parameters.find(
        (p: { name: string }) => p.name === 'type',
      );
      expect(filter.schema.pattern).toBe(TASK_TYPE_NAME.source);
      expect(document.components.schemas.CreateTaskDto.properties.type.pattern).toBe(TASK_TYPE_NAME.source);
      expect(document.components.schemas.CreateTaskDto.properties.taskToken.minLength).toBe(1);
    });

    const cursor = (after: string) =>
      `cursor=${Buffer.from(JSON.stringify({ after })).toString('base64url')}`;
    it.each([
      'status=done',
      'limit=0',
      'limit=101',
      'cursor=abc',
      cursor('9999-99-99T99:99:99.999Z|00000000-0000-0000-0000-000000000000'),
      cursor(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`),
      cursor('-004714-11-23T00:00:00.000Z|00000000-0000-0000-0000-000000000000'),
      cursor('+275760-09-13T00:00:00.000Z|00000000-0000-0000-0000-000000000000'),
      'assignee=me',
      'type=Bad!',
    ])('answers 400 for %s', async (query) => {
      const response = await as(operator).get(`/v1/admin/tasks?${query}`);
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    });
  });

  describe('claim, decide, cancel', () => {
    it('claims with If-Match, then decides with the new ETag; stale is 412, decided is 409 naming who', async () => {
      const task = await createTask(t);
      const claim = await as(operator).post(`/v1/admin/tasks/${task.id}/claim`, undefined, {
        'if-match': task.etag,
      });
      expect(claim.status).toBe(200);
      expect(claim.body.assignee).toMatch(/^[0-9a-f-]{36}$/);
      expect(claim.headers.etag).toBe('"2"');
      // A UUID in either case, as a path id is taken; any UUID, of any version, is one.
      for (const assignee of [claim.body.assignee, claim.body.assignee.toUpperCase()]) {
        const assigned = await as(operator).get(`/v1/admin/tasks?assignee=${assignee}&limit=100`);
        expect(assigned.body.items.map((item: { id: string }) => item.id)).toContain(task.id);
      }
      const nobody = await as(operator).get('/v1/admin/tasks?assignee=01234567-89ab-cdef-0123-456789abcdef');
      expect([nobody.status, nobody.body.items]).toEqual([200, []]);

      const stale = await as(operator).post(
        `/v1/admin/tasks/${task.id}/decision`,
        { outcome: 'approved' },
        {
          'if-match': task.etag,
        },
      );
      expect(stale.status).toBe(412);
      const decided = await as(operator).post(
        `/v1/admin/tasks/${task.id}/decision`,
        { outcome: 'rejected', comment: 'Not eligible' },
        { 'if-match': claim.headers.etag as string },
      );
      expect(decided.status).toBe(200);
      expect(decided.headers.location).toBeUndefined();
      expect(decided.body).toMatchObject({
        status: 'rejected',
        decision: {
          outcome: 'rejected',
          comment: 'Not eligible',
          via: 'api',
          decidedBy: expect.stringContaining('@'),
        },
        version: 3,
      });
      const again = await as(admin()).post(`/v1/admin/tasks/${task.id}/decision`, { outcome: 'approved' });
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ status: 409, taskStatus: 'rejected' });
      expect(again.body.decision.outcome).toBe('rejected');
      expect((await as(operator).post(`/v1/admin/tasks/${task.id}/claim`)).status).toBe(409);
      expect((await as(operator).post(`/v1/admin/tasks/${task.id}/cancel`, { reason: 'late' })).status).toBe(
        409,
      );
    });

    it("leaves a task claimed by someone else theirs, unless the claim names the task's version", async () => {
      const task = await createTask(t);
      const first = await as(operator).post(`/v1/admin/tasks/${task.id}/claim`);
      expect(first.status).toBe(200);
      expect((await as(operator).post(`/v1/admin/tasks/${task.id}/claim`)).status).toBe(200);
      const blind = await as(admin()).post(`/v1/admin/tasks/${task.id}/claim`);
      expect(blind.status).toBe(409);
      expect(blind.body).toMatchObject({
        assignee: first.body.assignee,
        detail: expect.stringContaining('If-Match'),
      });
      expect((await as(operator).get(`/v1/tasks/${task.id}`)).body.assignee).toBe(first.body.assignee);
      const current = await as(operator).get(`/v1/tasks/${task.id}`);
      const takeOver = await as(admin()).post(`/v1/admin/tasks/${task.id}/claim`, undefined, {
        'if-match': current.headers.etag as string,
      });
      expect(takeOver.status).toBe(200);
      expect(takeOver.body.assignee).not.toBe(first.body.assignee);
    });

    it.each([
      [{}, 400],
      [{ outcome: 'maybe' }, 400],
      [{ outcome: 'approved', comment: 'x'.repeat(2001) }, 400],
      [{ outcome: 'approved', comment: 'backspace\b' }, 400],
      [{ outcome: 'approved', extra: true }, 400],
    ])('refuses the decision %j', async (body, status) => {
      const task = await createTask(t);
      const response = await as(operator).post(`/v1/admin/tasks/${task.id}/decision`, body);
      expect(response.status).toBe(status);
      expect((await as(operator).get(`/v1/tasks/${task.id}`)).body.status).toBe('open');
    });

    it('answers 404 for an unknown task, 400 for a malformed id', async () => {
      const missing = '0190a000-0000-7000-8000-000000000000';
      expect(
        (await as(operator).post(`/v1/admin/tasks/${missing}/decision`, { outcome: 'approved' })).status,
      ).toBe(404);
      expect((await as(operator).post(`/v1/admin/tasks/${missing}/claim`)).status).toBe(404);
      expect((await as(operator).post('/v1/admin/tasks/x/cancel', { reason: 'r' })).status).toBe(400);
    });

    it('lets the creating machine client cancel its task, and no other client', async () => {
      const creator = workflow();
      const task = await createTask(t, {}, creator);
      const otherClient = {
        authorization: `Bearer ${token({ scope: SCOPES.tasksWrite, clientId: OTHER_CLIENT })}`,
      };
      const stranger = await as(otherClient).post(`/v1/tasks/${task.id}/cancel`, { reason: 'not mine' });
      expect(stranger.status).toBe(404);
      expect((await as(creator).post(`/v1/tasks/${task.id}/cancel`, {})).status).toBe(400);
      const cancelled = await as(creator).post(`/v1/tasks/${task.id}/cancel`, { reason: 'Order withdrawn' });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.decision).toMatchObject({
        outcome: 'cancelled',
        comment: 'Order withdrawn',
        via: 'api',
      });
    });

    it('lets exactly one of many concurrent decisions win', async () => {
      const task = await createTask(t);
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          as(admin()).post(`/v1/admin/tasks/${task.id}/decision`, {
            outcome: i % 2 ? 'approved' : 'rejected',
          }),
        ),
      );
      expect(responses.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409]);
      const { rows } = await sql.query(
        `SELECT count(*)::int AS n FROM audit_log WHERE target_id = $1 AND action = 'task.decided'`,
        [task.id],
      );
      expect(rows[0].n).toBe(1);
    });
  });

  describe('expiry', () => {
    it('refuses a claim, a decision or a cancellation once expiresAt has passed, even before the sweep', async () => {
      const task = await createTask(t, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
      await sql.query(`UPDATE tasks SET expires_at = now() - interval '1 second' WHERE id = $1`, [task.id]);
      for (const ifMatch of [undefined, `"${task.version}"`]) {
        const claim = await as(operator).post(
          `/v1/admin/tasks/${task.id}/claim`,
          {},
          ifMatch ? { 'If-Match': ifMatch } : {},
        );
        expect([claim.status, claim.body.detail]).toEqual([409, expect.stringContaining('expired')]);
      }
      const late = await as(operator).post(`/v1/admin/tasks/${task.id}/decision`, { outcome: 'approved' });
      expect(late.status).toBe(409);
      expect(late.body.detail).toContain('expired');
      const cancel = await as(operator).post(`/v1/admin/tasks/${task.id}/cancel`, { reason: 'late' });
      expect([cancel.status, cancel.body.detail]).toEqual([409, expect.stringContaining('expired')]);
      await t.app.get(TaskSchedule).sweep();
      expect((await as(operator).get(`/v1/tasks/${task.id}`)).body.status).toBe('expired');
    });

    it('skips a task whose expiry fails, and expires the others', async () => {
      const type = `test.failing.${Math.random().toString(36).slice(2, 8)}`;
      t.app.get(TaskTypes).define({
        name: type,
        payload: z.object({}),
        onDecided: () => Promise.reject(new Error('the handler is broken')),
      });
      const soon = new Date(Date.now() + 60_000).toISOString();
      const broken = await createTask(t, { type, payload: {}, expiresAt: soon });
      const fine = await createTask(t, { expiresAt: soon });
      await sql.query(`UPDATE tasks SET expires_at = now() - interval '1 second' WHERE id = ANY($1)`, [
        [broken.id, fine.id],
      ]);
      await t.app.get(TaskSchedule).sweep();
      expect((await as(operator).get(`/v1/tasks/${broken.id}`)).body.status).toBe('open');
      expect((await as(operator).get(`/v1/tasks/${fine.id}`)).body.status).toBe('expired');
    });

    it('expires open tasks past expiresAt, once, whoever sweeps', async () => {
      const task = await createTask(t, { expiresAt: new Date(Date.now() + 60_000).toISOString() });
      await sql.query(`UPDATE tasks SET expires_at = now() - interval '1 second' WHERE id = $1`, [task.id]);
      await Promise.all([t.app.get(TaskSchedule).sweep(), t.app.get(TaskSchedule).sweep()]);
      const { body } = await as(operator).get(`/v1/tasks/${task.id}`);
      expect(body).toMatchObject({ status: 'expired', decision: { outcome: 'expired', via: 'system' } });
      const audit = await as(operator).get(`/v1/admin/audit?action=task.expired&limit=100`);
      expect(
        audit.body.items.filter((entry: { target: { id: string } }) => entry.target.id === task.id),
      ).toHaveLength(1);
    });
  });

  describe('GET /v1/admin/audit', () => {
    it('records who did what, when, on what and via what; filters by actor and action; pages', async () => {
      const someone = admin();
      const task = await createTask(t, {}, someone);
      await as(someone).post(`/v1/admin/tasks/${task.id}/claim`);
      await as(someone).post(`/v1/admin/tasks/${task.id}/decision`, { outcome: 'approved', comment: 'ok' });
      const userId = (await as(someone).get('/v1/me')).body.id as string;
      const mine = await as(operator).get(`/v1/admin/audit?actor=${userId}`);
      expect(mine.status).toBe(200);
      expect(mine.body.items.map((entry: { action: string }) => entry.action)).toEqual([
        'task.decided',
        'task.claimed',
        'task.created',
      ]);
      expect(mine.body.items[0]).toMatchObject({
        actor: { kind: 'user', id: userId },
        target: { type: 'task', id: task.id },
        via: 'api',
        details: { outcome: 'approved', comment: 'ok' },
      });
      const first = await as(operator).get(`/v1/admin/audit?actor=${userId}&limit=2`);
      const rest = await as(operator).get(
        `/v1/admin/audit?actor=${userId}&limit=2&cursor=${first.body.nextCursor}`,
      );
      expect(rest.body.items.map((entry: { action: string }) => entry.action)).toEqual(['task.created']);
      expect((await as(operator).get('/v1/admin/audit?action=DROP TABLE')).status).toBe(400);
      // An id is one id in either case: in a path, in the trail and in a search.
      const other = await createTask(t, {}, someone);
      const upper = other.id.toUpperCase();
      expect((await as(someone).post(`/v1/admin/tasks/${upper}/claim`)).status).toBe(200);
      for (const [actor, target] of [
        [userId, other.id],
        [userId.toUpperCase(), upper],
      ]) {
        const trail = await as(operator).get(`/v1/admin/audit?actor=${actor}&target=${target}`);
        expect(trail.body.items.map((entry: { action: string }) => entry.action)).toEqual([
          'task.claimed',
          'task.created',
        ]);
      }
      expect((await as(user()).get('/v1/admin/audit')).status).toBe(403);
    });
  });

  describe('project review requests (the example flow)', () => {
    const createProject = resourceFactory('/v1/projects', () => ({ name: uniqueName('review') }));

    it('refuses fields sent with a review request, which takes none, and opens no review', async () => {
      const owner = user();
      const project = await createProject(t, owner);
      const refused = await as(owner).post(`/v1/projects/${project.id}/review-requests`, {
        reviewer: 'alice',
      });
      expect(refused.status).toBe(400);
      expect(refused.body.errors).toEqual([
        { pointer: '/reviewer', detail: 'property reviewer should not exist' },
      ]);
      expect((await as(owner).get(`/v1/projects/${project.id}/review`)).body.status).toBe('none');
      expect((await as(owner).post(`/v1/projects/${project.id}/review-requests`, {})).status).toBe(201);
    });

    it('opens a project.review task; approving it marks the review approved', async () => {
      const owner = user();
      const project = await createProject(t, owner);
      expect((await as(owner).get(`/v1/projects/${project.id}/review`)).body).toMatchObject({
        status: 'none',
      });
      const requested = await as(owner).post(`/v1/projects/${project.id}/review-requests`);
      expect(requested.status).toBe(201);
      expect(requested.body).toMatchObject({ projectId: project.id, status: 'requested', decidedAt: null });
      expect((await as(owner).post(`/v1/projects/${project.id}/review-requests`)).status).toBe(409);
      expect((await as(user()).post(`/v1/projects/${project.id}/review-requests`)).status).toBe(404);
      expect((await as(user()).get(`/v1/projects/${project.id}/review`)).status).toBe(404);
      const task = (await as(operator).get(`/v1/tasks/${requested.body.taskId}`)).body;
      expect(task).toMatchObject({ type: 'project.review', payload: { projectId: project.id } });
      expect(task.subjectUserId).toBe((await as(owner).get('/v1/me')).body.id);
      await as(operator).post(`/v1/admin/tasks/${task.id}/decision`, { outcome: 'approved' });
      const review = (await as(owner).get(`/v1/projects/${project.id}/review`)).body;
      expect(review).toMatchObject({ status: 'approved', taskId: task.id, decidedAt: expect.any(String) });
      // Decided: the owner may ask again.
      expect((await as(owner).post(`/v1/projects/${project.id}/review-requests`)).status).toBe(201);
    });

    it('answers a retried request with the same Idempotency-Key with the same review, and where to read it', async () => {
      const owner = user();
      const project = await createProject(t, owner);
      const ask = (key: string) =>
        as(owner).post(`/v1/projects/${project.id}/review-requests`, undefined, { 'idempotency-key': key });
      const first = await ask('review-once');
      const retried = await ask('review-once');
      expect([first.status, retried.status]).toEqual([201, 201]);
      expect(retried.headers['idempotent-replayed']).toBe('true');
      expect(retried.body.taskId).toBe(first.body.taskId);
      const location = `/v1/projects/${project.id}/review`;
      expect([first.headers.location, retried.headers.location]).toEqual([location, location]);
      expect((await as(owner).get(location)).body).toEqual(first.body);
      expect((await ask('review-twice')).status).toBe(409);
    });

    it('cancels and redacts the tasks about a user who deletes themselves; decided ones keep their decision', async () => {
      const owner = user();
      const [decided, open] = [
        await createProject(t, owner, { name: uniqueName('Private name'), description: 'private details' }),
        await createProject(t, owner),
      ];
      const review = async (projectId: string) =>
        (await as(owner).post(`/v1/projects/${projectId}/review-requests`)).body.taskId as string;
      const [decidedTask, openTask] = [await review(decided.id), await review(open.id)];
      await as(operator).post(`/v1/admin/tasks/${decidedTask}/decision`, {
        outcome: 'approved',
        comment: 'Private comment: their passport matches',
      });
      // As a release from before DropTaskTitlesFromAudit writes them, during a rolling deploy.
      await sql.query(
        `UPDATE audit_log SET details = details || jsonb_build_object('title', $1::text)
         WHERE action = 'task.created' AND target_id = ANY($2::text[])`,
        [`Review ${decided.name}`, [decidedTask, openTask]],
      );
      expect((await t.http().delete('/v1/me').set('authorization', owner.authorization)).status).toBe(204);

      const [afterDecided, afterOpen] = [
        (await as(operator).get(`/v1/tasks/${decidedTask}`)).body,
        (await as(operator).get(`/v1/tasks/${openTask}`)).body,
      ];
      const redacted = { title: 'About a deleted user', description: '', payload: {}, subjectUserId: null };
      expect(afterDecided).toMatchObject({ ...redacted, status: 'approved', decision: { comment: null } });
      expect(afterOpen).toMatchObject({
        ...redacted,
        status: 'cancelled',
        decision: {
          outcome: 'cancelled',
          via: 'system',
          comment: 'The user the task was about was deleted.',
        },
      });
      // Nor does the audit trail keep what the tasks said.
      for (const task of [decidedTask, openTask]) {
        const trail = (await as(operator).get(`/v1/admin/audit?target=${task}`)).body;
        expect(trail.items.length).toBeGreaterThan(0);
        expect(JSON.stringify(trail)).not.toContain('Private name');
        expect(JSON.stringify(trail)).not.toContain(open.name);
        expect(JSON.stringify(trail)).not.toContain('Private comment');
      }
    });

    it('no longer names an operator who deleted themselves on the tasks they decided', async () => {
      const leaving = admin();
      const [decided, other] = [await createTask(t), await createTask(t)];
      await as(leaving).post(`/v1/admin/tasks/${decided.id}/decision`, { outcome: 'approved' }).expect(200);
      await as(operator).post(`/v1/admin/tasks/${other.id}/decision`, { outcome: 'rejected' }).expect(200);
      const before = (await as(operator).get(`/v1/tasks/${decided.id}`)).body;
      expect((await t.http().delete('/v1/me').set('authorization', leaving.authorization)).status).toBe(204);

      const after = await as(operator).get(`/v1/tasks/${decided.id}`);
      expect(after.body).toMatchObject({ status: 'approved', decision: { decidedBy: 'a deleted user' } });
      expect(after.body.version).toBe(before.version + 1);
      const again = await as(operator).post(`/v1/admin/tasks/${decided.id}/decision`, {
        outcome: 'rejected',
      });
      expect(again.status).toBe(409);
      expect(again.body.detail).toContain('approved by a deleted user');
      const named = await sql.query('SELECT count(*)::int AS n FROM tasks WHERE decided_by = $1', [
        before.decision.decidedBy,
      ]);
      expect(named.rows[0].n).toBe(0);
      // Another operator's decisions keep their name.
      expect((await as(operator).get(`/v1/tasks/${other.id}`)).body.decision.decidedBy).toMatch(
        /^admin-.*@example\.com$/,
      );
    });

    it("replays others' Idempotency-Keys about a user who deleted themselves without what they said of them", async () => {
      const subject = user();
      const { id } = (await as(subject).get('/v1/me')).body;
      const title = uniqueName('About their refund');
      const key = { 'idempotency-key': randomUUID() };
      const body = { type: 'approval', title, subjectUserId: id };
      const created = await as(workflow()).post('/v1/tasks', body, key);
      expect(created.status).toBe(201);
      expect((await t.http().delete('/v1/me').set('authorization', subject.authorization)).status).toBe(204);

      const { rows } = await sql.query('SELECT response_body::text AS body FROM idempotency_keys');
      expect(rows.filter((row: { body: string }) => row.body.includes(title))).toEqual([]);
      const retried = await as(workflow()).post('/v1/tasks', body, key);
      expect([retried.status, retried.headers['idempotent-replayed'], retried.body.id]).toEqual([
        201,
        'true',
        created.body.id,
      ]);
      expect(retried.body).toMatchObject({ title: 'About a deleted user', payload: {}, subjectUserId: null });
    });

    it.each(['the project', 'its owner'])(
      'answers 404 to a request racing the deletion of %s, and stores nothing',
      async (deleted) => {
        const owner = user();
        const project = await createProject(t, owner);
        // The deletion holds its locks until it commits, as one in flight on another connection would.
        const deleter = new pg.Client({ connectionString: t.db.url });
        await deleter.connect();
        try {
          await deleter.query('BEGIN');
          await (deleted === 'the project'
            ? deleter.query('DELETE FROM projects WHERE id = $1', [project.id])
            : deleter.query('DELETE FROM users WHERE cognito_sub = $1', [owner.sub]));
          // Sent now (a supertest request leaves only once something waits for it).
          const request = as(owner)
            .post(`/v1/projects/${project.id}/review-requests`)
            .then((response) => response);
          await new Promise((resolve) => setTimeout(resolve, 300));
          await deleter.query('COMMIT');
          const response = await request;
          expect(response.status).toBe(404);
          expect(response.headers['content-type']).toContain('application/problem+json');
        } finally {
          await deleter.end();
        }
        const tasks = await sql.query("SELECT 1 FROM tasks WHERE payload->>'projectId' = $1", [project.id]);
        expect(tasks.rowCount).toBe(0);
      },
    );

    it('withdraws the review when its task is cancelled', async () => {
      const owner = user();
      const project = await createProject(t, owner);
      const { taskId } = (await as(owner).post(`/v1/projects/${project.id}/review-requests`)).body;
      await as(operator).post(`/v1/admin/tasks/${taskId}/cancel`, { reason: 'duplicate' });
      expect((await as(owner).get(`/v1/projects/${project.id}/review`)).body.status).toBe('withdrawn');
    });

    it('cancels the open review of a project its owner deletes, and leaves a decided one as it is', async () => {
      const owner = user();
      const [open, decided] = [await createProject(t, owner), await createProject(t, owner)];
      const review = async (projectId: string) =>
        (await as(owner).post(`/v1/projects/${projectId}/review-requests`)).body.taskId as string;
      const [openTask, decidedTask] = [await review(open.id), await review(decided.id)];
      await as(operator).post(`/v1/admin/tasks/${decidedTask}/decision`, { outcome: 'approved' });
      // A stranger's attempt changes nothing.
      expect((await as(user()).delete(`/v1/projects/${open.id}`)).status).toBe(404);
      expect((await as(operator).get(`/v1/tasks/${openTask}`)).body.status).toBe('open');
      for (const project of [open, decided]) {
        expect((await as(owner).delete(`/v1/projects/${project.id}`)).status).toBe(204);
      }
      expect((await as(operator).get(`/v1/tasks/${openTask}`)).body).toMatchObject({
        status: 'cancelled',
        // Cancelled by the owner's deletion, and recorded as theirs.
        decision: { comment: 'The project was deleted.', via: 'api', decidedBy: owner.username },
      });
      const audit = await as(operator).get(`/v1/admin/audit?target=${openTask}&action=task.cancelled`);
      expect(audit.body.items).toMatchObject([{ actor: { kind: 'user' } }]);
      expect((await as(operator).get(`/v1/tasks/${decidedTask}`)).body.status).toBe('approved');
    });

    it('cancels the open review of a deleted project past its expiry, before the sweep expires it', async () => {
      const owner = user();
      const project = await createProject(t, owner);
      const { taskId } = (await as(owner).post(`/v1/projects/${project.id}/review-requests`)).body;
      await sql.query(`UPDATE tasks SET expires_at = now() - interval '1 second' WHERE id = $1`, [taskId]);
      expect((await as(owner).delete(`/v1/projects/${project.id}`)).status).toBe(204);
      expect((await as(operator).get(`/v1/tasks/${taskId}`)).body).toMatchObject({
        status: 'cancelled',
        decision: { comment: 'The project was deleted.', decidedBy: owner.username },
      });
    });

    it('cancels the task of a review requested while the project is being deleted', async () => {
      const owner = user();
      const project = await createProject(t, owner);
      const task = await createTask(t);
      // A review request in flight on another connection: it holds the project, its review is not committed yet.
      const requester = new pg.Client({ connectionString: t.db.url });
      await requester.connect();
      try {
        await requester.query('BEGIN');
        await requester.query('SELECT FROM projects WHERE id = $1 FOR KEY SHARE', [project.id]);
        await requester.query(
          `INSERT INTO project_reviews (project_id, status, task_id) VALUES ($1, 'requested', $2)`,
          [project.id, task.id],
        );
        const deletion = as(owner)
          .delete(`/v1/projects/${project.id}`)
          .then((response) => response);
        // The deletion waits for the request's transaction.
        expect(await someoneWaitsForLock(t.db.url)).toBe(true);
        await requester.query('COMMIT');
        expect((await deletion).status).toBe(204);
      } finally {
        await requester.end();
      }
      expect((await as(operator).get(`/v1/tasks/${task.id}`)).body.status).toBe('cancelled');
    });
  });

  it('reports tasks in the analytics summary', async () => {
    const { body } = await as(operator).get('/v1/admin/analytics/summary');
    expect(body.tasks).toEqual({
      open: expect.any(Number),
      overdue: expect.any(Number),
      medianSecondsToDecision: expect.any(Number),
    });
    expect(body.tasks.open).toBeGreaterThan(0);
  });
});

/** A process's first token lookups, each in a request holding a connection for its Idempotency-Key's transaction. */
describe('tasks: the first Step Functions tokens a process sees', () => {
  const t = useTestApp({ env: { DB_POOL_MAX: '2', DB_CONNECT_TIMEOUT_MS: '3000' } });

  it('are answered when as many arrive at once as the pool has connections', async () => {
    const send = () =>
      t
        .http()
        .post('/v1/tasks')
        .set('authorization', workflow().authorization)
        .set('idempotency-key', randomUUID())
        .send({ type: 'approval', title: 'Burst', taskToken: `token-${randomUUID()}` });
    const answers = await Promise.all([send(), send()]);
    expect(answers.map((answer) => answer.status)).toEqual([201, 201]);
  });
});
