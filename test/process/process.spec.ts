import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { Agent, get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { jsonLines, ROOT, startProcess } from '../support/process.js';
import { authEnv } from '../support/tokens.js';
import { promisify } from 'node:util';

const execute = promisify(execFile);

const PROBE_SERVER = join(ROOT, 'test', 'fixtures', 'probe-server.mjs');
/** Production requires TLS to the database; these tests reach a local server without it, so run as "test". */
const baseEnv = () => ({ NODE_ENV: 'test', ...authEnv() });

describe('the process', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  describe('refuses to start on bad configuration', () => {
    it.each<[Record<string, string>, ...string[]]>([
      [{ PORT: 'abc' }, 'PORT'],
      [{ DATABASE_URL: 'postgres//missing-colon' }, 'DATABASE_URL'],
      [
        { DATABASE_URL: 'mysql://u:p@h/d', PORT: '-1', LOG_LEVEL: 'chatty' },
        'DATABASE_URL',
        'PORT',
        'LOG_LEVEL',
      ],
    ])('%o', async (env, ...variables) => {
      const server = await startProcess({
        ...baseEnv(),
        DATABASE_URL: db.url,
        ...env,
        PORT: env.PORT ?? '0',
      });
      const code = await server.exited;
      expect(code).not.toBe(0);
      for (const variable of variables) expect(server.stderr()).toContain(`${variable}:`);
      expect(server.stdout()).not.toContain('listening');
    });

    // Node knows this old name of America/Los_Angeles; PostgreSQL's time zone database dropped it.
    const zoneOnlyNodeKnows = { ANALYTICS_TIMEZONE: 'US/Pacific-New' };

    it('exits 1 naming ANALYTICS_TIMEZONE when PostgreSQL does not know the zone (migrating at start)', async () => {
      const server = await startProcess({
        ...baseEnv(),
        DATABASE_URL: db.url,
        MIGRATE_ON_START: 'true',
        ...zoneOnlyNodeKnows,
      });
      expect(await server.exited).toBe(1);
      expect(server.stderr()).toContain(
        'ANALYTICS_TIMEZONE: PostgreSQL does not know the time zone US/Pacific-New',
      );
      expect(server.stdout()).not.toContain('listening');
    });

    it('stops with exit 1, naming ANALYTICS_TIMEZONE, once connected in the background', async () => {
      const server = await startProcess({ ...baseEnv(), DATABASE_URL: db.url, ...zoneOnlyNodeKnows });
      expect(await server.exited).toBe(1);
      expect(jsonLines(server.stdout())).toContainEqual(
        expect.objectContaining({
          level: 60,
          msg: expect.stringContaining(
            'ANALYTICS_TIMEZONE: PostgreSQL does not know the time zone US/Pacific-New',
          ),
        }),
      );
    });

    it('refuses NODE_ENV=production without TLS to the database', async () => {
      const server = await startProcess({ ...authEnv(), NODE_ENV: 'production', DATABASE_URL: db.url });
      expect(await server.exited).toBe(1);
      expect(server.stderr()).toContain('DB_SSL_MODE:');
    });
  });

  it('finishes an in-flight request after SIGTERM, then exits 0', async () => {
    const server = await startProcess({ ...baseEnv(), DATABASE_URL: db.url }, PROBE_SERVER);
    expect(await server.waitFor('/health/ready', 200)).toBe(200);

    const inFlight = fetch(`${server.baseUrl}/test-slow?ms=1500`, {
      headers: { authorization: 'Bearer abc.def.ghi' },
    });
    await server.waitForOutput('slow request started');
    server.child.kill('SIGTERM');

    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ slept: 1500 });
    expect(await server.exited).toBe(0);

    const lines = jsonLines(server.stdout());
    const requestLine = lines.find((line) => line.route === '/test-slow');
    expect(requestLine).toMatchObject({
      req: { method: 'GET', id: expect.any(String) },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
    });
    expect(server.stdout()).not.toContain('abc.def.ghi');
    expect(lines.some((line) => String(line.msg).startsWith('SIGTERM received'))).toBe(true);
  });

  it('never logs the token of an emailed link, matched by a route or not, in whatever form the URL comes', async () => {
    const server = await startProcess({ ...baseEnv(), DATABASE_URL: db.url });
    expect(await server.waitFor('/health/ready', 200)).toBe(200);
    const token = 'SecretLinkToken'.repeat(4).padEnd(70, 'x');
    for (const path of [`/t/${token}`, `/t/${token}/more`]) {
      expect((await fetch(`${server.baseUrl}${path}`)).status).toBe(404);
    }
    // A URL that does not decode, answered before any hook runs.
    expect((await fetch(`${server.baseUrl}/t/${token}%zz`)).status).toBe(400);
    // The absolute form a client sends to a proxy, which servers must accept too; without Host, refused.
    const absolute = `GET http://runway.example/t/${token} HTTP/1.1\r\n`;
    expect(await rawStatus(server.baseUrl, `${absolute}Host: runway.example\r\n\r\n`)).toBe(404);
    const refused = await rawAnswer(server.baseUrl, `${absolute}\r\n`);
    expect(refused).toMatch(/^HTTP\/1\.1 400 /);
    expect(refused).not.toContain('SecretLinkToken');
    // Answered by Node itself, which Fastify never sees: logged all the same.
    const expectation = `POST /t/${token} HTTP/1.1\r\nHost: x\r\nExpect: bogus\r\nContent-Length: 0\r\n\r\n`;
    expect(await rawStatus(server.baseUrl, expectation)).toBe(417);
    expect(await rawStatus(server.baseUrl, 'CONNECT runway.example:443 HTTP/1.1\r\nHost: x\r\n\r\n')).toBe(
      405,
    );
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(jsonLines(server.stdout()).filter((line) => /^(POST|CONNECT) /.test(String(line.msg)))).toEqual([
      expect.objectContaining({
        msg: 'POST /t/:token 417 0ms',
        req: expect.objectContaining({ id: expect.any(String) }),
      }),
      expect.objectContaining({ msg: 'CONNECT runway.example:443 405 0ms', res: { statusCode: 405 } }),
    ]);
    const lines = jsonLines(server.stdout()).filter((line) => /^GET \/t\//.test(String(line.msg)));
    expect(lines.map((line) => line.msg)).toEqual([
      expect.stringMatching(/^GET \/t\/:token 404/),
      expect.stringMatching(/^GET \/t\/:token 404/),
      expect.stringMatching(/^GET \/t\/:token 400/),
      expect.stringMatching(/^GET \/t\/:token 404/),
      expect.stringMatching(/^GET \/t\/:token 400/),
    ]);
    expect(server.stdout()).not.toContain('SecretLinkToken');
  });

  it('logs a database that does not answer in time as a warning with its cause, not as an error', async () => {
    const server = await startProcess({ ...baseEnv(), DATABASE_URL: db.url }, PROBE_SERVER);
    expect(await server.waitFor('/health/ready', 200)).toBe(200);
    expect((await fetch(`${server.baseUrl}/test-database-timeout`)).status).toBe(503);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const lines = jsonLines(server.stdout());
    expect(lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
    expect(lines.find((line) => line.err !== undefined)).toMatchObject({
      level: 40,
      err: { message: expect.stringContaining('statement timeout') },
    });
  });

  it('logs the address it listens on as bound (all interfaces in a container)', async () => {
    const server = await startProcess({ ...baseEnv(), DATABASE_URL: db.url, HOST: '0.0.0.0' });
    expect(await server.waitFor('/health/live', 200)).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(jsonLines(server.stdout()).map((line) => line.msg)).toContain(
      `Runway listening on http://0.0.0.0:${server.port}`,
    );
  });

  it('logs a request whose body stopped arriving with the 408 it was answered', async () => {
    const server = await startProcess({
      ...baseEnv(),
      DATABASE_URL: db.url,
      HTTP_REQUEST_TIMEOUT_MS: '1000',
    });
    expect(await server.waitFor('/health/ready', 200)).toBe(200);
    const stalled =
      'POST /v1/projects HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{';
    expect(await rawStatus(server.baseUrl, stalled, { stall: true })).toBe(408);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const line = jsonLines(server.stdout()).find((entry) => /^POST \/v1\/projects/.test(String(entry.msg)));
    expect(line).toMatchObject({
      res: { statusCode: 408 },
      msg: expect.stringMatching(/^POST \/v1\/projects 408/),
    });
  });

  it('answers readiness 503 while draining, and survives a second signal', async () => {
    const server = await startProcess({ ...baseEnv(), DATABASE_URL: db.url }, PROBE_SERVER);
    expect(await server.waitFor('/health/ready', 200)).toBe(200);
    // Keep one connection busy so the server stays up, then ask for readiness on another one.
    const inFlight = fetch(`${server.baseUrl}/test-slow?ms=1500`);
    await server.waitForOutput('slow request started');
    server.child.kill('SIGTERM');
    server.child.kill('SIGINT'); // a second signal (Ctrl-C reaches a runner and its child) must not cut the drain
    await server.waitForOutput('SIGTERM received');
    const ready = await fetch(`${server.baseUrl}/health/ready`).catch(() => undefined);
    // Either the listener is already closed (connection refused) or readiness says 503: never 200.
    if (ready) expect(ready.status).toBe(503);
    expect((await inFlight).status).toBe(200);
    expect(await server.exited).toBe(0);
  });

  it('after SIGTERM answers every request on a kept-alive connection with Connection: close, resetting none', async () => {
    const server = await startProcess({ ...baseEnv(), DATABASE_URL: db.url }, PROBE_SERVER);
    expect(await server.waitFor('/health/ready', 200)).toBe(200);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; connection?: string }>((resolve, reject) =>
        httpGet(`${server.baseUrl}${path}`, { agent }, (response) => {
          response.resume();
          response.on('end', () =>
            resolve({ status: response.statusCode!, connection: response.headers.connection }),
          );
        }).on('error', reject),
      );
    expect(await get('/health/live')).toEqual({ status: 200, connection: 'keep-alive' });
    server.child.kill('SIGTERM');
    await server.waitForOutput('SIGTERM received');
    // The same connection, reused at once: answered, and told to close.
    expect(await get('/health/live')).toEqual({ status: 200, connection: 'close' });
    agent.destroy();
    expect(await server.exited).toBe(0);
  });

  it('exits 0 after SIGTERM while a connection that never sent a request (a preconnect) stays open', async () => {
    const server = await startProcess(
      { ...baseEnv(), DATABASE_URL: db.url, SHUTDOWN_TIMEOUT_MS: '5000' },
      PROBE_SERVER,
    );
    expect(await server.waitFor('/health/ready', 200)).toBe(200);
    const preconnected = connect(server.port, '127.0.0.1');
    preconnected.on('error', () => undefined);
    await once(preconnected, 'connect');
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    preconnected.destroy();
  });

  it('two processes migrating one empty database at once both become ready; each migration is recorded once', async () => {
    const empty = await createTestDatabase({ empty: true });
    try {
      const env = { ...baseEnv(), DATABASE_URL: empty.url, MIGRATE_ON_START: 'true' };
      const [first, second] = await Promise.all([startProcess(env), startProcess(env)]);
      expect(
        await Promise.all([first.waitFor('/health/ready', 200), second.waitFor('/health/ready', 200)]),
      ).toEqual([200, 200]);
      first.child.kill('SIGTERM');
      second.child.kill('SIGTERM');
      expect(await Promise.all([first.exited, second.exited])).toEqual([0, 0]);

      const client = new pg.Client({ connectionString: empty.url });
      await client.connect();
      const { rows } = await client.query<{ name: string; count: string }>(
        'SELECT name, count(*) FROM migrations GROUP BY name',
      );
      await client.end();
      expect(rows.map((row) => row.name).sort()).toEqual(
        MIGRATIONS.map((migration) => migration.name).sort(),
      );
      expect(rows.every((row) => row.count === '1')).toBe(true);
    } finally {
      await empty.drop();
    }
  });

  describe('the migrate-only entry point (dist/src/migrate.js, run before each deployment)', () => {
    const MIGRATE = join(ROOT, 'dist', 'src', 'migrate.js');

    it('applies pending migrations once even when two runs race, then finds nothing to do', async () => {
      const empty = await createTestDatabase({ empty: true });
      try {
        const env = { NODE_ENV: 'test', DATABASE_URL: empty.url };
        const runs = await Promise.all([startProcess(env, MIGRATE), startProcess(env, MIGRATE)]);
        expect(await Promise.all(runs.map((run) => run.exited))).toEqual([0, 0]);
        expect(runs.map((run) => run.stdout()).join('')).toContain('Applied migrations:');

        const again = await startProcess(env, MIGRATE);
        expect(await again.exited).toBe(0);
        expect(again.stdout()).toContain('No pending migrations.');

        const client = new pg.Client({ connectionString: empty.url });
        await client.connect();
        const { rows } = await client.query<{ count: string }>('SELECT count(*) FROM migrations');
        await client.end();
        expect(Number(rows[0]!.count)).toBe(MIGRATIONS.length);
      } finally {
        await empty.drop();
      }
    });

    it('with --min-runtime-seconds, exits with its own code no sooner than that (copilot looks every 6 s)', async () => {
      const started = performance.now();
      const env = { ...process.env, NODE_ENV: 'test', DATABASE_URL: db.url };
      const { stdout } = await execute(process.execPath, [MIGRATE, '--min-runtime-seconds', '2'], { env });
      expect(stdout).toContain('No pending migrations.');
      expect(performance.now() - started).toBeGreaterThanOrEqual(2_000);
      await expect(
        execute(process.execPath, [MIGRATE, '--min-runtime-seconds', 'soon'], { env }),
      ).rejects.toThrow(/--min-runtime-seconds must be a whole number/);
    });

    it('exits 1 on bad configuration, naming the variable, without needing the API variables', async () => {
      const run = await startProcess({ NODE_ENV: 'production', DATABASE_URL: db.url }, MIGRATE);
      expect(await run.exited).toBe(1);
      expect(run.stderr()).toContain('DB_SSL_MODE:');
      expect(run.stderr()).not.toContain('COGNITO');
    });
  });
});

/** Sends raw bytes (then, unless `stall`, the end of the stream) and gives all that came back. */
function rawAnswer(baseUrl: string, request: string, { stall = false } = {}): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () =>
      stall ? socket.write(request) : socket.end(request),
    );
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

async function rawStatus(baseUrl: string, request: string, options?: { stall?: boolean }): Promise<number> {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(await rawAnswer(baseUrl, request, options))?.[1]);
}
