import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { OtlpReceiver } from '../support/otlp-receiver.js';
import { join } from 'node:path';
import { jsonLines, ROOT, startProcess } from '../support/process.js';
import { authEnv, user } from '../support/tokens.js';

/** The built app started as main.js starts it (SDK first), plus probe routes. */
const PROBE_SERVER = join(ROOT, 'test', 'fixtures', 'probe-server.mjs');

/** The running process exports to a local OTLP receiver; its stdout is the log. */
describe('telemetry of the running process', () => {
  let db: TestDatabase;
  const receiver = new OtlpReceiver();
  let endpoint: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    endpoint = await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
    await db?.drop();
  });

  it('exports server and SQL spans over OTLP; log lines and problem+json carry the same trace id', async () => {
    const server = await startProcess(
      {
        NODE_ENV: 'test',
        ...authEnv(),
        DATABASE_URL: db.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
      },
      PROBE_SERVER,
    );
    try {
      expect(await server.waitFor('/health/ready', 200)).toBe(200);
      const alice = user();
      const response = await fetch(`${server.baseUrl}/v1/projects/${randomUUID()}`, {
        headers: { authorization: alice.authorization },
      });
      expect(response.status).toBe(404);
      const { traceId } = (await response.json()) as { traceId: string };

      const serverSpan = await receiver.span(
        (span) => span.traceId === traceId && span.name === 'GET /v1/projects/:id',
      );
      expect(serverSpan.attributes['code.function.name']).toBe('ProjectsController.get');
      // The handler's own statement (a user's first request of the day also records the day's activity).
      const statement = await receiver.span(
        (span) =>
          span.parentSpanId === serverSpan.spanId &&
          /\bprojects\b/.test(String(span.attributes['db.query.text'])),
      );
      expect(String(statement.attributes['db.query.text'])).toMatch(/SELECT/i);

      await server.waitForOutput('GET /v1/projects/:id 404');
      const requestLine = jsonLines(server.stdout()).find((line) => line.route === '/v1/projects/:id');
      expect(requestLine).toMatchObject({
        trace_id: traceId,
        span_id: expect.stringMatching(/^[0-9a-f]{16}$/),
        xray_trace_id: `1-${traceId.slice(0, 8)}-${traceId.slice(8)}`,
      });

      // An unexpected error: logged once, with its stack, the request and the trace.
      const failed = await fetch(`${server.baseUrl}/test-boom`);
      expect(failed.status).toBe(500);
      const failure = (await failed.json()) as { traceId: string; requestId: string };
      await server.waitForOutput('GET /test-boom 500');
      const requestLines = jsonLines(server.stdout()).filter((line) => line.msg === 'GET /test-boom 500');
      expect(requestLines).toHaveLength(1);
      expect(requestLines[0]).not.toHaveProperty('err');
      const stackLines = jsonLines(server.stdout()).filter((line) =>
        JSON.stringify(line).includes('unexpected failure in a handler'),
      );
      expect(stackLines).toHaveLength(1);
      expect(stackLines[0]).toMatchObject({
        level: 50,
        trace_id: failure.traceId,
        route: '/test-boom',
        method: 'GET',
        req: { id: failure.requestId },
        err: { stack: expect.stringContaining('BoomController.boom') },
      });
      const failedSpan = await receiver.span(
        (span) => span.traceId === failure.traceId && span.name === 'GET /test-boom',
      );
      expect(failedSpan.attributes['http.response.status_code']).toBe(500);

      // A request its client gives up on: its line is written outside the request, with the request's trace still.
      const abandoned = new AbortController();
      const slow = fetch(`${server.baseUrl}/test-slow?ms=5000`, { signal: abandoned.signal }).catch(
        () => undefined,
      );
      await server.waitForOutput('slow request started');
      abandoned.abort();
      await slow;
      await server.waitForOutput('GET /test-slow abandoned by the client');
      const slowSpan = await receiver.span((span) => span.name === 'GET /test-slow');
      const abandonedLine = jsonLines(server.stdout()).find((line) => String(line.msg).includes('abandoned'));
      expect(abandonedLine).toMatchObject({ trace_id: slowSpan.traceId });

      const deadline = Date.now() + 20_000;
      while (!receiver.metricNames.has('http.server.request.duration') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect([...receiver.metricNames]).toEqual(
        expect.arrayContaining(['http.server.request.duration', 'db.client.connection.count']),
      );
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
    expect(server.stderr()).toBe('');
  });

  it('stops cleanly when the collector has gone first: exit 0, a warning, the export bounded', async () => {
    const gone = new OtlpReceiver();
    const server = await startProcess({
      NODE_ENV: 'test',
      ...authEnv(),
      DATABASE_URL: db.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: await gone.start(),
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    try {
      expect(await server.waitFor('/health/ready', 200)).toBe(200);
      await fetch(`${server.baseUrl}/v1/me`, { headers: { authorization: user().authorization } });
    } finally {
      await gone.stop();
      server.child.kill('SIGTERM');
    }
    expect(await server.exited).toBe(0);
    const warning = jsonLines(server.stdout()).find((line) =>
      String(line.msg).startsWith('Telemetry not exported'),
    );
    expect(warning).toMatchObject({ level: 40, context: 'Shutdown' });
  });

  it('without an exporter endpoint: no spans, no export errors', async () => {
    const server = await startProcess({ NODE_ENV: 'test', ...authEnv(), DATABASE_URL: db.url });
    expect(await server.waitFor('/health/ready', 200)).toBe(200);
    const response = await fetch(`${server.baseUrl}/v1/me`, {
      headers: { authorization: user().authorization },
    });
    expect(response.status).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stderr()).toBe('');
    expect(server.stdout()).not.toMatch(/otlp|export/i);
  });
});
