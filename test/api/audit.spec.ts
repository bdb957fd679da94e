import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestApp } from '../support/app.js';
import { admin, createTask } from '../support/tasks.js';
import { user, type TestCaller } from '../support/tokens.js';

/** GET /v1/admin/audit filtered by target: the history of one task (or user, or any other target). */
describe('GET /v1/admin/audit?target=', () => {
  const t = useTestApp();
  let operator: TestCaller;

  beforeAll(() => {
    operator = admin();
  });

  const audit = (query: Record<string, string>, caller: TestCaller | null = operator) => {
    const request = t.http().get('/v1/admin/audit').query(query);
    return caller ? request.set('authorization', caller.authorization) : request;
  };
  const actions = (body: { items: { action: string }[] }) => body.items.map(({ action }) => action);

  it("gives one target's entries only, newest first; with the other filters and pages", async () => {
    const [task, other] = [await createTask(t, {}, operator), await createTask(t, {}, operator)];
    const claim = (id: string) =>
      t.http().post(`/v1/admin/tasks/${id}/claim`).set('authorization', operator.authorization);
    expect((await claim(task.id)).status).toBe(200);
    expect((await claim(other.id)).status).toBe(200);
    const decision = await t
      .http()
      .post(`/v1/admin/tasks/${task.id}/decision`)
      .set('authorization', operator.authorization)
      .send({ outcome: 'approved' });
    expect(decision.status).toBe(200);

    const history = await audit({ target: task.id });
    expect(history.status).toBe(200);
    expect(actions(history.body)).toEqual(['task.decided', 'task.claimed', 'task.created']);
    expect(history.body.items.every((entry: { target: { id: string } }) => entry.target.id === task.id)).toBe(
      true,
    );
    expect(actions((await audit({ target: other.id })).body)).toEqual(['task.claimed', 'task.created']);
    expect(actions((await audit({ target: task.id, action: 'task.claimed' })).body)).toEqual([
      'task.claimed',
    ]);

    const first = await audit({ target: task.id, limit: '2' });
    expect(actions(first.body)).toEqual(['task.decided', 'task.claimed']);
    const rest = await audit({ target: task.id, limit: '2', cursor: first.body.nextCursor as string });
    expect(rest.body).toEqual({
      items: [expect.objectContaining({ action: 'task.created' })],
      nextCursor: null,
    });
  });

  it('answers an empty page for a target with no entries, whatever its text', async () => {
    for (const target of ['0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70', "x' OR '1'='1", 'é'.repeat(200)]) {
      const response = await audit({ target });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ items: [], nextCursor: null });
    }
  });

  it('refuses a target over 200 characters with 400 naming it', async () => {
    const response = await audit({ target: 'x'.repeat(201) });
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body.errors).toContainEqual({ pointer: '/target', detail: expect.any(String) });
  });

  it('takes a filter given empty as none, for every filter alike', async () => {
    const all = await audit({});
    for (const filter of ['actor', 'action', 'target']) {
      const response = await audit({ [filter]: '' });
      expect(response.status, filter).toBe(200);
      expect(response.body, filter).toEqual(all.body);
    }
  });

  it('declares in the OpenAPI document the limits it enforces on its filters', async () => {
    const { body: document } = await t.http().get('/openapi.json');
    const schemas = Object.fromEntries(
      document.paths['/v1/admin/audit'].get.parameters.map((p: { name: string; schema: object }) => [
        p.name,
        p.schema,
      ]),
    );
    expect(schemas).toMatchObject({
      actor: { maxLength: 320 },
      action: { pattern: '^[a-z][a-z0-9_.]{0,63}$' },
      target: { maxLength: 200 },
      cursor: { maxLength: 512 },
    });
  });

  it('is for admins only', async () => {
    expect((await audit({ target: 'x' }, user())).status).toBe(403);
    expect((await audit({ target: 'x' }, null)).status).toBe(401);
  });

  it('filters by target through an index, as by actor and action', async () => {
    const sql = new pg.Client({ connectionString: t.db.url });
    await sql.connect();
    try {
      await sql.query('SET enable_seqscan = off');
      const { rows } = await sql.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT * FROM audit_log WHERE target_id = 'x' AND id < '0190e0b4-8f5c-7c3e-9d1a-2b3c4d5e6f70'
         ORDER BY id DESC LIMIT 21`,
      );
      expect(rows.map((row) => row['QUERY PLAN']).join('\n')).toContain('ix_audit_log_target_id_id');
    } finally {
      await sql.end();
    }
  });
});
