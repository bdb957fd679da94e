// The SDK must start before http and pg load: this import comes first.
import {
  collectMetrics,
  exportedMetrics,
  finishedSpans,
  resetSpans,
  spanWhere,
} from '../support/telemetry.js';
import { randomBytes, randomUUID } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { DataPointType, type Histogram } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { beforeEach, describe, expect, it } from 'vitest';
import { pinoHttp, type Options } from 'pino-http';
import { Database, sql } from '../../src/database/database.js';
import { loggerParams } from '../../src/http/logging.js';
import { TaskTypes } from '../../src/tasks/task-types.js';
import { BusinessMetrics } from '../../src/telemetry/business-metrics.js';
import { useTestApp } from '../support/app.js';
import { resourceFactory, uniqueName } from '../support/factories.js';
import { ProbeModule } from '../support/probe.module.js';
import { admin, createTask, TASKS_ENV, useAwsEndpoint } from '../support/tasks.js';
import { user } from '../support/tokens.js';
import { eventually, until } from '../support/until.js';

const createProject = resourceFactory('/v1/projects', () => ({ name: uniqueName('project') }));

const t = useTestApp({ modules: [ProbeModule] });
const alice = user();

const serverSpan = (route: string) =>
  spanWhere((span) => span.kind === SpanKind.SERVER && span.attributes['http.route'] === route);
const childrenOf = (parent: ReadableSpan) =>
  finishedSpans().filter((span) => span.parentSpanContext?.spanId === parent.spanContext().spanId);
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
/** The in-process client is instrumented too and would send its own trace headers: not for these requests. */
const fromUntracedClient = <T>(send: () => Promise<T>) =>
  context.with(suppressTracing(context.active()), send);

describe('tracing', () => {
  beforeEach(() => resetSpans());

  it('traces an authenticated request as a server span (named by route, with its handler) and its SQL spans', async () => {
    const project = await createProject(t, alice, { name: 'traced' });
    resetSpans();

    const response = await t
      .http()
      .get(`/v1/projects/${project.id}`)
      .set('authorization', alice.authorization);
    expect(response.status).toBe(200);

    const server = await serverSpan('/v1/projects/:id');
    expect(server.name).toBe('GET /v1/projects/:id');
    expect(server.attributes['http.response.status_code']).toBe(200);
    expect(server.status.code).not.toBe(SpanStatusCode.ERROR);

    expect(server.attributes['code.function.name']).toBe('ProjectsController.get');
    const statements = childrenOf(server).filter((span) => span.attributes['db.query.text'] !== undefined);
    expect(statements.length).toBeGreaterThan(0);
    for (const statement of statements) {
      expect(statement.spanContext().traceId).toBe(server.spanContext().traceId);
      expect(statement.attributes['db.system.name']).toBe('postgresql');
      expect(String(statement.attributes['db.query.text'])).not.toContain(project.id);
      expect(Object.keys(statement.attributes).some((key) => key.startsWith('db.query.parameter'))).toBe(
        false,
      );
    }
  });

  it("marks a failed statement with PostgreSQL's error code, and no span of its trace with its message (which may quote values)", async () => {
    const response = await t.http().get('/test-probe/bad-uuid');
    expect(response.status).toBeGreaterThanOrEqual(400);
    const server = await serverSpan('/test-probe/bad-uuid');
    const [statement] = childrenOf(server).filter((span) => span.attributes['db.query.text'] !== undefined);
    expect(statement!.status.code).toBe(SpanStatusCode.ERROR);
    expect(statement!.attributes).toMatchObject({
      'db.response.status_code': '22P02',
      'error.type': '22P02',
    });
    const trace = finishedSpans().filter(
      (span) => span.spanContext().traceId === server.spanContext().traceId,
    );
    expect(trace.length).toBeGreaterThan(1);
    for (const span of trace) {
      expect(JSON.stringify([span.name, span.status, span.attributes, span.events])).not.toContain(
        'secret-value',
      );
    }
    expect(server.events.map(({ attributes }) => attributes?.['exception.type'])).toEqual(['22P02']);
  });

  it('logs a PostgreSQL data exception by its code and where it arose, never with the values its message quotes', async () => {
    const failure: unknown = await t.app
      .get(Database)
      .rows(sql`SELECT ${'not-a-uuid: secret-value'}::uuid`)
      .catch((error: unknown) => error);
    const lines: string[] = [];
    const options = loggerParams(t.config).pinoHttp as Options;
    const { logger } = pinoHttp({
      ...options,
      level: 'info',
      stream: { write: (line: string) => void lines.push(line) },
    });
    const scrubbed = {
      type: 'DatabaseError',
      code: '22P02',
      message: 'PostgreSQL error 22P02',
      routine: expect.any(String),
      stack: expect.stringMatching(/^DatabaseError: PostgreSQL error 22P02\n\s+at /),
    };
    logger.error({ err: failure }, 'request failed');
    // Also as the cause of another error, nested under `cause`.
    logger.error({ err: new Error('migration 1 failed', { cause: failure }) }, 'migrations failed');
    expect(lines).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('secret-value');
    expect(lines.map((line) => JSON.parse(line) as unknown)).toMatchObject([
      { err: scrubbed },
      {
        err: {
          type: 'Error',
          message: 'migration 1 failed',
          stack: expect.stringMatching(/^Error: migration 1 failed\n\s+at /),
          cause: scrubbed,
        },
      },
    ]);
  });

  it('uses X-Ray-compatible trace ids (epoch seconds first) and records the service resource', async () => {
    await t.http().get('/v1/me').set('authorization', alice.authorization).expect(200);
    const server = await serverSpan('/v1/me');
    const seconds = parseInt(server.spanContext().traceId.slice(0, 8), 16);
    expect(Math.abs(seconds - Date.now() / 1000)).toBeLessThan(600);
    expect(server.resource.attributes).toMatchObject({
      'service.name': 'runway',
      'service.version': expect.stringMatching(/^\d+\.\d+\.\d+/),
      'deployment.environment.name': 'test',
    });
  });

  it('continues an incoming W3C traceparent', async () => {
    const [traceId, parentId] = [hex(16), hex(8)];
    await fromUntracedClient(async () =>
      t
        .http()
        .get('/v1/me')
        .set('authorization', alice.authorization)
        .set('traceparent', `00-${traceId}-${parentId}-01`)
        .expect(200),
    );
    const server = await serverSpan('/v1/me');
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext?.spanId).toBe(parentId);
  });

  // X-Ray reads its ids in either case; W3C's traceparent and the logs' searches take them in lowercase only.
  it.each([
    ['in lowercase', (id: string) => id],
    ['in uppercase, in lowercase', (id: string) => id.toUpperCase()],
  ])('continues an incoming X-Amzn-Trace-Id %s', async (_case, spell) => {
    const [traceId, parentId] = [hex(16), hex(8)];
    const response = await fromUntracedClient(async () =>
      t
        .http()
        .get(`/v1/projects/${randomUUID()}`)
        .set('authorization', alice.authorization)
        .set(
          'x-amzn-trace-id',
          `Root=1-${spell(traceId.slice(0, 8))}-${spell(traceId.slice(8))};Parent=${spell(parentId)};Sampled=1`,
        )
        .expect(404),
    );
    const server = await serverSpan('/v1/projects/:id');
    expect(server.spanContext().traceId).toBe(traceId);
    expect(server.parentSpanContext?.spanId).toBe(parentId);
    expect(response.body.traceId).toBe(traceId);
  });

  it('puts the span trace id in problem+json', async () => {
    const response = await t
      .http()
      .get(`/v1/projects/${randomUUID()}`)
      .set('authorization', alice.authorization)
      .expect(404);
    const server = await serverSpan('/v1/projects/:id');
    expect(response.body.traceId).toBe(server.spanContext().traceId);
    // A 404 is an answer, not a failure of the server.
    expect(server.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('puts the trace id in a problem answered before any route runs (two Host headers)', async () => {
    await t.app.listen(0, '127.0.0.1');
    const { port } = t.app.getHttpServer().address() as AddressInfo;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.end('GET /v1/me HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n'),
      );
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
    });
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    const problem = JSON.parse(body) as { status: number; traceId?: string };
    expect(problem.status).toBe(400);
    const server = await spanWhere(
      (span) => span.kind === SpanKind.SERVER && span.attributes['url.path'] === '/v1/me',
    );
    expect(problem.traceId).toBe(server.spanContext().traceId);
  });

  describe('a request whose body stops arriving', () => {
    const slow = useTestApp({ env: { HTTP_REQUEST_TIMEOUT_MS: '1001' } });

    it('is answered 408 with the path and trace id of its span', async () => {
      await slow.app.listen(0, '127.0.0.1');
      const { port } = slow.app.getHttpServer().address() as AddressInfo;
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () =>
          socket.write(
            'POST /v1/projects?page=2 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
              'Content-Length: 100\r\n\r\n{',
          ),
        );
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('error', reject);
        socket.on('close', () => resolve(text));
      });
      const problem = JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
      expect(problem).toMatchObject({ status: 408, instance: '/v1/projects' });
      const server = await spanWhere(
        (span) =>
          span.kind === SpanKind.SERVER &&
          span.attributes['http.response.status_code'] === 408 &&
          span.attributes['url.path'] === '/v1/projects',
      );
      expect(problem.traceId).toBe(server.spanContext().traceId);
    });
  });

  it('records the exception of a failed request on its span', async () => {
    const response = await t.http().get('/test-probe/boom').expect(500);
    const server = await serverSpan('/test-probe/boom');
    expect(response.body.traceId).toBe(server.spanContext().traceId);
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    const exception = server.events.find((event) => event.name === 'exception');
    expect(exception?.attributes?.['exception.message']).toContain('secret detail');
    expect(exception?.attributes?.['exception.stacktrace']).toBeDefined();
    expect(server.attributes['code.function.name']).toBe('ProbeController.boom');
  });

  it('keeps query strings out of spans, and health probes out of traces', async () => {
    await t
      .http()
      .get('/v1/projects?limit=5&cursor=secret-value')
      .set('authorization', alice.authorization)
      .expect(400);
    const server = await serverSpan('/v1/projects');
    expect(JSON.stringify(server.attributes)).not.toContain('secret-value');
    expect(server.attributes['url.query']).toBe('limit=REDACTED&cursor=REDACTED');

    // A capability URL (an emailed task link) is a secret: the span names its route pattern instead.
    const link = `/t/${'S'.repeat(70)}`;
    await fromUntracedClient(() => t.http().get(link).expect(404));
    const page = await serverSpan('/t/:token');
    expect(page.attributes['url.path']).toBe('/t/:token');
    expect(JSON.stringify(page.attributes)).not.toContain('SSSS');

    resetSpans();
    await t.http().get('/health/live').expect(200);
    await t.http().get('/health/ready').expect(200);
    expect(finishedSpans().filter((span) => span.kind === SpanKind.SERVER)).toEqual([]);
  });
});

describe('outgoing calls', () => {
  it('fetch (the signing-key fetcher) and node:http (the AWS SDK) make CLIENT spans and carry the trace', async () => {
    const received: IncomingHttpHeaders[] = [];
    const peer = http.createServer((request, response) => {
      received.push(request.headers);
      response.end('{}');
    });
    await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(peer.address() as AddressInfo).port}`;
    try {
      const parent = await trace.getTracer('test').startActiveSpan('caller', async (span) => {
        await (await fetch(`${url}/jwks`)).text();
        await new Promise((resolve) =>
          http.get(`${url}/sdk`, (response) => response.resume().on('end', resolve)),
        );
        span.end();
        return span.spanContext();
      });
      expect(received).toHaveLength(2);
      for (const headers of received) {
        expect(headers.traceparent).toMatch(new RegExp(`^00-${parent.traceId}-[0-9a-f]{16}-01$`));
        expect(headers['x-amzn-trace-id']).toContain(
          `Root=1-${parent.traceId.slice(0, 8)}-${parent.traceId.slice(8)}`,
        );
      }
      const clients = finishedSpans().filter(
        (span) => span.kind === SpanKind.CLIENT && span.parentSpanContext?.spanId === parent.spanId,
      );
      expect(clients.map((span) => span.attributes['url.full'] ?? span.attributes['url.path'])).toHaveLength(
        2,
      );
    } finally {
      await new Promise((resolve) => peer.close(resolve));
    }
  });
});

describe('metrics', () => {
  it('records request duration by route, method and status; pool, runtime and business metrics', async () => {
    const bob = user();
    await createProject(t, bob);
    await t.http().get('/v1/me').set('authorization', bob.authorization).expect(200);

    const metrics = await collectMetrics();
    const durations = metrics.get('http.server.request.duration') ?? [];
    expect(durations).toContainEqual(
      expect.objectContaining({
        attributes: expect.objectContaining({
          'http.route': '/v1/me',
          'http.request.method': 'GET',
          'http.response.status_code': 200,
        }),
        value: expect.objectContaining({ count: expect.any(Number) }),
      }),
    );
    expect(durations.some((point) => point.attributes['http.route'] === '/v1/projects')).toBe(true);
    // The failed request of the tracing tests, with its error type; health probes are not recorded.
    expect(durations).toContainEqual(
      expect.objectContaining({
        attributes: expect.objectContaining({
          'http.route': '/test-probe/boom',
          'http.response.status_code': 500,
          'error.type': '500',
        }),
      }),
    );
    expect(durations.some((point) => String(point.attributes['http.route']).startsWith('/health'))).toBe(
      false,
    );

    const states = (metrics.get('db.client.connection.count') ?? []).map(
      (point) => point.attributes['db.client.connection.state'],
    );
    expect(states).toEqual(expect.arrayContaining(['idle', 'used']));
    expect(metrics.has('db.client.connection.wait_time')).toBe(true);
    expect(metrics.has('process.memory.usage')).toBe(true);
    expect([...metrics.keys()].some((name) => name.startsWith('nodejs.eventloop.delay'))).toBe(true);

    // CloudWatch's exporter (awsemf) turns every cumulative sum into the change since the last export, an up-down
    // counter's too, and the SDK keeps those cumulative: a level (connections in use) must be a gauge to read as one.
    const levels = (await exportedMetrics()).filter(
      // v8js.* (the runtime instrumentation's) are not among the manifest's metric_declarations: not sent.
      (metric) =>
        metric.dataPointType === DataPointType.SUM &&
        !metric.isMonotonic &&
        !metric.descriptor.name.startsWith('v8js.'),
    );
    expect(levels.map((metric) => metric.descriptor.name)).toEqual([]);

    const total = (name: string) =>
      (metrics.get(name) ?? []).reduce((sum, point) => sum + (point.value as number), 0);
    expect(total('runway.users.provisioned')).toBeGreaterThanOrEqual(1);
    expect(total('runway.projects.created')).toBeGreaterThanOrEqual(1);
  });

  it('records how long each query waited for a connection, a wait too short for a gauge read once a minute', async () => {
    const db = t.app.get(Database);
    const waitsOver100Ms = async () => {
      const [point] = (await collectMetrics()).get('db.client.connection.wait_time') ?? [];
      expect(point?.attributes).toEqual({ 'db.client.connection.pool.name': 'runway' });
      const { boundaries, counts } = (point!.value as Histogram).buckets;
      return counts.slice(boundaries.indexOf(0.1) + 1).reduce((sum, count) => sum + count, 0);
    };
    const before = await waitsOver100Ms();
    // 15 queries of 0.2 s at once on a pool of 10 connections: 5 wait for one of the first to end.
    await Promise.all(Array.from({ length: 15 }, () => db.rows(sql`SELECT pg_sleep(0.2)`)));
    expect((await waitsOver100Ms()) - before).toBeGreaterThanOrEqual(5);
  });

  it("records the manual tasks' metrics: created and decided by type, open and overdue gauges", async () => {
    const db = t.app.get(Database);
    const task = await createTask(t);
    const late = await createTask(t);
    await db.affected(sql`UPDATE tasks SET due_at = now() - interval '1 minute' WHERE id = ${late.id}`);
    await t
      .http()
      .post(`/v1/admin/tasks/${task.id}/decision`)
      .set('authorization', admin().authorization)
      .send({ outcome: 'approved' })
      .expect(200);
    const expected = await db.row<{ open: number; overdue: number }>(sql`
      SELECT count(*)::int AS open, (count(*) FILTER (WHERE due_at < now()))::int AS overdue
      FROM tasks WHERE status = 'open' AND type = 'approval'`);

    // The gauges share one reading of the database for a few seconds.
    let metrics = await collectMetrics();
    const approvals = (name: string) =>
      (metrics.get(name) ?? []).filter((point) => point.attributes.type === 'approval');
    const gauges = () => [
      approvals('runway.tasks.open').map((point) => point.value),
      (metrics.get('runway.tasks.overdue') ?? []).map((point) => point.value),
    ];
    const current = [[expected?.open], [expected?.overdue]];
    await until(async () => {
      metrics = await collectMetrics();
      return JSON.stringify(gauges()) === JSON.stringify(current);
    });
    expect(gauges()).toEqual(current);
    expect(expected?.overdue).toBeGreaterThanOrEqual(1);
    expect(approvals('runway.tasks.created').reduce((sum, point) => sum + (point.value as number), 0)).toBe(
      2,
    );
    expect(
      approvals('runway.tasks.time_to_decision').map((point) => (point.value as Histogram).count),
    ).toEqual([1]);
  });

  it('reports 0 open tasks of a type with none open, not nothing', async () => {
    const open = await t.app
      .get(Database)
      .rows<{ type: string }>(sql`SELECT DISTINCT type FROM tasks WHERE status = 'open'`);
    const idle = t.app.get(TaskTypes).names.filter((name) => !open.some((row) => row.type === name));
    expect(idle.length).toBeGreaterThan(0);
    const points = (await collectMetrics()).get('runway.tasks.open') ?? [];
    for (const type of idle) {
      expect(points.filter((point) => point.attributes.type === type).map((point) => point.value)).toEqual([
        0,
      ]);
    }
  });

  it('records a business metric in a transaction once it commits, never when it rolls back', async () => {
    const [db, business] = [t.app.get(Database), t.app.get(BusinessMetrics)];
    const counter = business.counter('runway.probe.done', 'Probe events', '{event}');
    const histogram = business.histogram('runway.probe.duration', 'Probe durations', 's');
    const record = (outcome: string) => {
      counter.add(1, { outcome });
      histogram.record(2, { outcome });
    };
    const rollback = db.transaction(async () => {
      record('rolled_back');
      await db.rows(sql`SELECT 1`);
      throw new Error('rolled back');
    });
    await expect(rollback).rejects.toThrow('rolled back');
    await db.transaction(async () => {
      record('committed');
      await db.rows(sql`SELECT 1`);
    });
    record('outside');
    const metrics = await collectMetrics();
    const counted = (metrics.get('runway.probe.done') ?? []).map((point) => [
      point.attributes.outcome,
      point.value,
    ]);
    expect(counted.sort()).toEqual([
      ['committed', 1],
      ['outside', 1],
    ]);
    const recorded = (metrics.get('runway.probe.duration') ?? []).map((point) => [
      point.attributes.outcome,
      (point.value as Histogram).sum,
    ]);
    expect(recorded.sort()).toEqual([
      ['committed', 2],
      ['outside', 2],
    ]);
  });
});

// Last in the file: the local AWS endpoint it starts is where the SDK clients of every app created after it call.
describe('Step Functions callbacks', () => {
  const endpoint = useAwsEndpoint();
  const withCallbacks = useTestApp({ env: TASKS_ENV });

  it('counts a callback that failed for good in runway.tasks.callbacks_failed, by type and error', async () => {
    endpoint.aws.failNext('SendTaskSuccess', {
      status: 400,
      type: 'TaskTimedOut',
      message: 'Task Timed Out',
    });
    const task = await createTask(withCallbacks, { taskToken: 'token-counted' });
    await withCallbacks
      .http()
      .post(`/v1/admin/tasks/${task.id}/decision`)
      .set('authorization', admin().authorization)
      .send({ outcome: 'approved' })
      .expect(200);
    const failed = await eventually(async () => {
      const points = (await collectMetrics()).get('runway.tasks.callbacks_failed');
      return points?.length ? points : undefined;
    });
    expect(failed.map((point) => [point.attributes, point.value])).toEqual([
      [{ type: 'approval', error: 'TaskTimedOut' }, 1],
    ]);
  });

  it('counts an email that failed for good in runway.tasks.emails_failed, by kind and error', async () => {
    endpoint.aws.failNext('SendEmail', { status: 400, type: 'MessageRejected' });
    await createTask(withCallbacks);
    const failed = await eventually(async () => {
      const points = (await collectMetrics()).get('runway.tasks.emails_failed');
      return points?.length ? points : undefined;
    });
    expect(failed.map((point) => [point.attributes, point.value])).toEqual([
      [{ kind: 'created', error: 'MessageRejected' }, 1],
    ]);
  });
});
