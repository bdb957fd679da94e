/**
 * `npm run bench -- --queries`: how long the admin analytics queries take on a seeded database (`npm run seed:events`
 * first; DATABASE_URL, else the `npm run dev` database). The app runs in this process and answers injected requests
 * one at a time, as an admin's page asks them; every round asks each query in turn, GET /v1/me among them as the
 * floor (a request that reads one row). Prints p50 and p95 per query, the ratio of its p50 to the floor's in the same
 * round (median over rounds) and the CPU per query of this process and of PostgreSQL together, from /proc.
 * bench/README.md shows what it measured.
 */
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { cpus } from 'node:os';
import { createApp } from '../src/app.js';
import { dayIn } from '../src/analytics/days.js';
import { loadConfig } from '../src/config/config.js';
import { ENVIRONMENT } from '../src/config/environment.js';
import { FUNNEL } from '../tools/analytics/catalog.js';
import { createSigningKey, mintAccessToken, serveJwks } from '../tools/dev/dev-issuer.js';
import { devDatabase } from '../tools/dev/dev-database.js';
import { postgresCpuMicros, processCpuMicros } from './proc.js';
import { median, rotate } from './report.js';
import { BENCH_CLIENT_ID, BENCH_POOL } from './fixture.js';

interface Query {
  name: string;
  path: string;
  /** The most a p95 may take (ms); the floor has none. */
  budgetMs?: number;
}

function queries(to: string, from: (days: number) => string): Query[] {
  const range = (days: number) => `from=${from(days)}&to=${to}`;
  return [
    { name: 'floor: GET /v1/me', path: '/v1/me' },
    { name: 'active users, 90 days', path: `/v1/admin/analytics/active-users?${range(90)}`, budgetMs: 50 },
    { name: 'events, 30 days', path: `/v1/admin/analytics/events?${range(30)}`, budgetMs: 300 },
    {
      name: 'funnel, 3 steps, 30 days',
      path: `/v1/admin/analytics/funnel?${range(30)}&steps=${FUNNEL.slice(0, 3).join(',')}`,
      budgetMs: 1000,
    },
    {
      name: 'retention, weekly, 30 days',
      path: `/v1/admin/analytics/retention?${range(30)}&interval=week`,
      budgetMs: 1000,
    },
    { name: 'retention, daily, 30 days', path: `/v1/admin/analytics/retention?${range(30)}` },
    { name: 'lifecycle, weekly, 90 days', path: `/v1/admin/analytics/lifecycle?${range(90)}&interval=week` },
    { name: 'summary', path: '/v1/admin/analytics/summary' },
  ];
}

interface Sample {
  latencies: number[];
  cpuMicros: number;
}

export async function measureQueries(rounds: number, repeat: number): Promise<number> {
  const timeZone = ENVIRONMENT.ANALYTICS_TIMEZONE.parse(process.env.ANALYTICS_TIMEZONE?.trim() || undefined);
  const database = await devDatabase((line) => process.stderr.write(`${line}\n`));
  const key = createSigningKey();
  const jwks = await serveJwks(key.jwks);
  let app: NestFastifyApplication | undefined;
  try {
    app = await createApp(
      loadConfig({
        NODE_ENV: 'test',
        LOG_LEVEL: 'silent',
        DATABASE_URL: database.url,
        MIGRATE_ON_START: 'true',
        COGNITO_USER_POOL_ID: BENCH_POOL,
        COGNITO_CLIENT_ID: BENCH_CLIENT_ID,
        COGNITO_JWKS_URL: jwks.url,
        ANALYTICS_TIMEZONE: timeZone,
        RATE_LIMIT_READS_PER_MINUTE: '0',
      }),
    );
    const fastify = app.getHttpAdapter().getInstance();
    const token = mintAccessToken(key, {
      username: 'bench-admin',
      groups: ['admin'],
      clientId: BENCH_CLIENT_ID,
      issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${BENCH_POOL}`,
    });
    const ask = async (path: string) => {
      const response = await fastify.inject({
        method: 'GET',
        url: path,
        headers: { authorization: `Bearer ${token}` },
      });
      if (response.statusCode !== 200) throw new Error(`${path}: ${response.statusCode} ${response.body}`);
      return response.json<unknown>();
    };
    const today = dayIn(timeZone, new Date());
    const events = (await ask(`/v1/admin/analytics/events?from=${today}&to=${today}`)) as {
      items: unknown[];
    };
    if (events.items.length === 0) {
      process.stderr.write('No events today: fill the database with `npm run seed:events` first.\n');
      return 1;
    }
    const day = (offset: number) =>
      new Date(Date.parse(today) - offset * 86_400_000).toISOString().slice(0, 10);
    const all = queries(today, (days) => day(days - 1));
    for (const query of all) await ask(query.path); // warm the caches and the plans
    const samples = new Map<string, Sample[]>(all.map(({ name }) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const query of rotate(all, round)) {
        const cpuBefore = cpuMicros();
        const latencies: number[] = [];
        for (let i = 0; i < repeat; i++) {
          const started = performance.now();
          await ask(query.path);
          latencies.push(performance.now() - started);
        }
        samples.get(query.name)!.push({ latencies, cpuMicros: (cpuMicros() - cpuBefore) / repeat });
      }
      process.stderr.write(`round ${round + 1}/${rounds} done\n`);
    }
    printReport(all, samples, { rounds, repeat, timeZone });
    return 0;
  } finally {
    await app?.close();
    await jwks.close();
    await database.release();
  }
}

function printReport(
  all: Query[],
  samples: Map<string, Sample[]>,
  settings: { rounds: number; repeat: number; timeZone: string },
): void {
  const out = (line = '') => process.stdout.write(`${line}\n`);
  const floor = samples.get(all[0]!.name)!;
  out(`\nRunway analytics queries — ${new Date().toISOString()}`);
  out(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, time zone ${settings.timeZone}`,
  );
  out(
    `${settings.rounds} rounds × ${settings.repeat} requests per query, one at a time, queries rotated every round; ` +
      'p50/p95 over all requests, ratio = median over rounds of p50 ÷ the floor’s p50 in the same round\n',
  );
  out('| Query | p50 ms | p95 ms | budget (p95) | p50 ÷ floor | CPU ms/query (app + PostgreSQL) |');
  out('|---|---:|---:|---|---:|---:|');
  for (const query of all) {
    const rounds = samples.get(query.name)!;
    const latencies = rounds.flatMap(({ latencies }) => latencies);
    const p95 = percentile(latencies, 0.95);
    const ratio = median(
      rounds.map((round, index) => median(round.latencies) / median(floor[index]!.latencies)),
    );
    const budget =
      query.budgetMs === undefined ? '' : `${query.budgetMs} ms ${p95 <= query.budgetMs ? 'met' : 'MISSED'}`;
    out(
      `| ${query.name} | ${percentile(latencies, 0.5).toFixed(1)} | ${p95.toFixed(1)} | ${budget} | ` +
        `${ratio.toFixed(1)}× | ${(median(rounds.map(({ cpuMicros }) => cpuMicros)) / 1000).toFixed(1)} |`,
    );
  }
}

function percentile(values: number[], share: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)]!;
}

/** This process's CPU and every PostgreSQL process's (the database may be any server DATABASE_URL names). */
const cpuMicros = () => processCpuMicros(process.pid) + postgresCpuMicros();
