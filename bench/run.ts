/**
 * `npm run bench`: Runway against a bare Fastify + pg baseline on the same embedded PostgreSQL, one after the
 * other, loopback only. Prints req/s, latency p50/p99, RSS after load, cold start, and the ratio to the baseline.
 * Environment: BENCH_DURATION_S (default 10), BENCH_CONNECTIONS (default 50).
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createSigningKey, mintAccessToken, serveJwks } from '../tools/dev/dev-issuer.js';
import { loadDatabaseConfig } from '../src/config/config.js';
import { createDataSource } from '../src/database/data-source.js';
import { freePort, startEmbeddedPostgres } from '../tools/dev/embedded-postgres.js';
import { runMigrations } from '../src/database/migrator.js';

const DIST = join(import.meta.dirname, '..');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

interface Target {
  name: string;
  script: string;
  env: Record<string, string>;
}

/** One row per endpoint; later features add theirs here. */
interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  /** A new body for every request (e.g. unique names). */
  body?: () => string;
  /** Also measure Runway with tracing on, to report its overhead. */
  traced?: boolean;
}

interface Measurement {
  target: string;
  scenario: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  rssMiB: number;
  coldStartMs: number;
  /** The server's CPU time per request: steadier than req/s when the load generator shares the cores. */
  cpuMicrosPerRequest: number;
}

async function main(): Promise<void> {
  const server = await startEmbeddedPostgres({
    dataDir: await mkdtemp(join(tmpdir(), 'runway-bench-pg-')),
    persistent: false,
  });
  try {
    await server.createDatabase('runway_bench');
    const databaseUrl = server.url('runway_bench');
    const benchUser = await prepareDatabase(databaseUrl);
    // A local issuer, as in the tests: the real guard verifies a real RS256 token against its JWKS.
    const key = createSigningKey();
    const jwks = await serveJwks(key.jwks);
    const token = mintAccessToken(key, {
      username: benchUser.username,
      sub: benchUser.sub,
      clientId: 'runway-bench',
      issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${BENCH_POOL}`,
    });
    const common = {
      DATABASE_URL: databaseUrl,
      DB_POOL_MAX: '10',
      BENCH_SUB: benchUser.sub,
      BENCH_USER_ID: benchUser.id,
    };
    const baseline: Target = {
      name: 'baseline (Fastify + pg)',
      script: join(DIST, 'bench', 'baseline.js'),
      env: common,
    };
    // NODE_ENV=test: production settings except TLS to the database (the baseline has none either).
    const runway: Target = {
      name: 'runway',
      script: join(DIST, 'src', 'main.js'),
      env: {
        ...common,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        MIGRATE_ON_START: 'true',
        COGNITO_USER_POOL_ID: BENCH_POOL,
        COGNITO_CLIENT_ID: 'runway-bench',
        COGNITO_JWKS_URL: jwks.url,
      },
    };
    // Tracing on, default sampling (every request), exporting over OTLP to a sink that discards what it gets.
    const sink = await startDiscardingCollector();
    const runwayTraced: Target = {
      name: 'runway, tracing on',
      script: runway.script,
      env: { ...runway.env, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url },
    };
    const scenarios: Scenario[] = [
      { name: 'GET /health/ready', method: 'GET', path: '/health/ready' },
      // The same token on every request, as a real client reuses its access token until it expires.
      {
        name: 'GET /v1/me (bearer token)',
        method: 'GET',
        path: '/v1/me',
        headers: { authorization: `Bearer ${token}` },
      },
      {
        name: 'GET /v1/projects/:id (bearer token)',
        method: 'GET',
        path: `/v1/projects/${benchUser.projectId}`,
        headers: { authorization: `Bearer ${token}` },
        traced: true,
      },
      {
        name: 'POST /v1/projects (bearer token)',
        method: 'POST',
        path: '/v1/projects',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: () => JSON.stringify({ name: `bench-${randomUUID()}` }),
      },
    ];

    const results: Measurement[] = [];
    for (const scenario of scenarios) {
      const targets = scenario.traced ? [baseline, runway, runwayTraced] : [baseline, runway];
      for (const target of targets) results.push(await measure(target, scenario));
    }
    report(results);
    await jwks.close();
    await sink.close();
  } finally {
    await server.stop();
  }
}

const BENCH_POOL = 'eu-west-1_RunwayBench';

/** Migrates the benchmark database and creates the user and the project both targets read. */
async function prepareDatabase(
  url: string,
): Promise<{ sub: string; username: string; id: string; projectId: string }> {
  const dataSource = await createDataSource(
    loadDatabaseConfig({ DATABASE_URL: url, NODE_ENV: 'test' }),
  ).initialize();
  try {
    await runMigrations(dataSource);
    const user = { sub: randomUUID(), username: 'bench-user', id: randomUUID(), projectId: randomUUID() };
    await dataSource.query('INSERT INTO users (id, cognito_sub, username) VALUES ($1, $2, $3)', [
      user.id,
      user.sub,
      user.username,
    ]);
    await dataSource.query("INSERT INTO projects (id, owner_id, name) VALUES ($1, $2, 'benchmark')", [
      user.projectId,
      user.id,
    ]);
    return user;
  } finally {
    await dataSource.destroy();
  }
}

/** An OTLP/HTTP endpoint that accepts everything and keeps nothing. */
async function startDiscardingCollector(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function measure(target: Target, scenario: Scenario): Promise<Measurement> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [target.script], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...target.env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitUntilReady(url, child);
    const coldStartMs = performance.now() - started;
    // Warm up (JIT, pool) before measuring.
    const load = (duration: number) =>
      autocannon({
        url: url + scenario.path,
        connections: CONNECTIONS,
        duration,
        method: scenario.method,
        headers: scenario.headers,
        ...(scenario.body
          ? { requests: [{ setupRequest: (request) => ({ ...request, body: scenario.body!() }) }] }
          : {}),
      });
    await load(2);
    const cpuBefore = cpuMicros(child.pid!);
    const result = await load(DURATION_S);
    const cpuUsed = cpuMicros(child.pid!) - cpuBefore;
    return {
      target: target.name,
      scenario: scenario.name,
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.non2xx,
      rssMiB: rssMiB(child.pid!),
      coldStartMs,
      cpuMicrosPerRequest: cpuUsed / result.requests.total,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it was ready`);
    const status = await fetch(`${url}/health/ready`)
      .then((response) => response.status)
      .catch(() => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('not ready within 60 s');
}

function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kib ? Number(kib) / 1024 : NaN;
}

/** User + system CPU time of a process so far (/proc/<pid>/stat, in clock ticks of 10 ms). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

function report(results: Measurement[]): void {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`\nRunway benchmark — ${new Date().toISOString()}`);
  out(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  out(
    `Load: autocannon, ${CONNECTIONS} connections, ${DURATION_S} s per row after a 2 s warm-up, loopback\n`,
  );
  out(
    '| Endpoint | Target | req/s | p50 ms | p99 ms | errors | RSS MiB | cold start ms | CPU µs/req | ratio |',
  );
  out('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of results) {
    const baseline = results.find(
      (other) => other.scenario === row.scenario && other.target.startsWith('baseline'),
    );
    const ratio = baseline ? row.requestsPerSecond / baseline.requestsPerSecond : NaN;
    out(
      `| ${row.scenario} | ${row.target} | ${row.requestsPerSecond.toFixed(0)} | ${row.p50} | ${row.p99} | ${row.errors} | ` +
        `${row.rssMiB.toFixed(0)} | ${row.coldStartMs.toFixed(0)} | ${row.cpuMicrosPerRequest.toFixed(0)} | ${ratio.toFixed(2)}× |`,
    );
  }
  for (const traced of results.filter((row) => row.target === 'runway, tracing on')) {
    const untraced = results.find((row) => row.scenario === traced.scenario && row.target === 'runway')!;
    const fewer = 1 - traced.requestsPerSecond / untraced.requestsPerSecond;
    const cpu = traced.cpuMicrosPerRequest / untraced.cpuMicrosPerRequest - 1;
    out(
      `\nTracing overhead on ${traced.scenario}: ${(fewer * 100).toFixed(1)} % fewer req/s ` +
        `(${untraced.requestsPerSecond.toFixed(0)} → ${traced.requestsPerSecond.toFixed(0)}), ` +
        `${(cpu * 100).toFixed(1)} % more CPU per request, p99 ${untraced.p99} → ${traced.p99} ms`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
