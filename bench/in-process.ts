/**
 * `npm run bench -- --in-process`: what one part of the request path costs, measured apart from the load generator
 * and the database (whose noise, on two shared cores, hides differences of a few per cent). The part runs in a tight
 * loop in this process, on the real objects of a running app, and its CPU per call is set against the CPU of a whole
 * request to the same app (injected, no network): its share of a request.
 */
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.js';
import { RateLimitGuard } from '../src/auth/rate-limit.guard.js';
import { APP_CONFIG, loadConfig } from '../src/config/config.js';
import { ProjectsController } from '../src/projects/projects.controller.js';
import { BENCH_CLIENT_ID, BENCH_POOL, type Fixture } from './fixture.js';
import type { RequestCpuJob } from './in-process-request.js';
import type { Target } from './measure.js';
import { median, rotate } from './report.js';

const REQUESTS = 3_000;
const CALLS = 200_000;

/**
 * `targets`: Runway and its variants (tracing, rate limits off, the `--compare` commit), the first being Runway as
 * built. Each is set against it by the CPU of a whole injected request (see {@link compareRequestCpu}).
 */
export async function measureParts(fixture: Fixture, rounds: number, targets: Target[]): Promise<void> {
  await measureRateLimiter(fixture, rounds);
  await compareRequestCpu(fixture, rounds, targets);
}

async function measureRateLimiter(fixture: Fixture, rounds: number): Promise<void> {
  const app = await createApp(
    loadConfig({
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      DATABASE_URL: fixture.databaseUrl,
      MIGRATE_ON_START: 'true',
      COGNITO_USER_POOL_ID: BENCH_POOL,
      COGNITO_CLIENT_ID: BENCH_CLIENT_ID,
      COGNITO_JWKS_URL: fixture.jwksUrl,
      RATE_LIMIT_READS_PER_MINUTE: '1000000000',
    }),
  );
  try {
    const request = {
      method: 'GET' as const,
      url: `/v1/projects/${fixture.user.projectId}`,
      headers: { authorization: `Bearer ${fixture.token}` },
    };
    const whole: number[] = [];
    const limiter: number[] = [];
    for (let round = 0; round < rounds; round++) {
      whole.push(await requestCpu(app, request));
      limiter.push(await rateLimiterCpu(app, fixture.user.sub));
    }
    const share = median(limiter.map((part, round) => part / whole[round]!));
    process.stdout.write(
      `\nRate limiter, in process (${rounds} rounds): ${median(limiter).toFixed(2)} µs CPU per request ` +
        `(${CALLS} checks a round) against ${median(whole).toFixed(0)} µs for a whole ${request.method} ` +
        `/v1/projects/:id (${REQUESTS} injected a round): ${(share * 100).toFixed(2)} % of a request\n`,
    );
  } finally {
    await app.close();
  }
}

/** CPU of this process per injected request (the database's own work is in another process). */
async function requestCpu(
  app: NestFastifyApplication,
  request: { method: 'GET'; url: string; headers: Record<string, string> },
): Promise<number> {
  const fastify = app.getHttpAdapter().getInstance();
  return cpuPerCall(REQUESTS, async () => {
    const response = await fastify.inject(request);
    if (response.statusCode !== 200)
      throw new Error(`${request.url}: ${response.statusCode} ${response.body}`);
  });
}

/** CPU of one rate-limit check of a signed-in caller on a read route, as the guard makes it for every request. */
async function rateLimiterCpu(app: NestFastifyApplication, sub: string): Promise<number> {
  // The guard of the app, made the way Nest makes it (it is registered as a global guard, not as a provider).
  const guard = new RateLimitGuard(app.get(APP_CONFIG), app.get(Reflector), app.get(HttpAdapterHost));
  const request = {
    method: 'GET',
    ip: '127.0.0.1',
    routeOptions: { config: {} },
    principal: { kind: 'user', sub, clientId: BENCH_CLIENT_ID },
  };
  const reply = { header: () => reply };
  const context = new ExecutionContextHost([request, reply]);
  context.setType('http');
  Object.assign(context, {
    // The handler is only a metadata key here: it is never called.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    getHandler: () => ProjectsController.prototype.get,
    getClass: () => ProjectsController,
  });
  return cpuPerCall(CALLS, () => guard.canActivate(context));
}

async function cpuPerCall(calls: number, call: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < calls / 10; i++) await call(); // warm up
  const before = process.cpuUsage();
  for (let i = 0; i < calls; i++) await call();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / calls;
}

/**
 * CPU per injected `GET /v1/projects/:id` of each target, each in a process of its own, the order rotated every
 * round; ratios to the first target are taken within each round, and their median printed. No network and no load
 * generator: only the app's own work (and its waits on the database) is in these figures.
 */
async function compareRequestCpu(fixture: Fixture, rounds: number, targets: Target[]): Promise<void> {
  const cpu = new Map<string, number[]>(targets.map(({ name }) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const target of rotate(targets, round)) {
      const value = await requestCpuIn(target, {
        appDir: dirname(target.script),
        env: target.env,
        url: `/v1/projects/${fixture.user.projectId}`,
        authorization: `Bearer ${fixture.token}`,
        requests: REQUESTS * 2,
      });
      cpu.get(target.name)!.push(value);
      process.stdout.write(
        `round ${round + 1}/${rounds}: ${target.name} ${value.toFixed(0)} µs CPU per request\n`,
      );
    }
  }
  const [first] = targets;
  const base = cpu.get(first!.name)!;
  process.stdout.write(
    `\nCPU per injected GET /v1/projects/:id, median of ${rounds} rounds (÷ ${first!.name}, per round):\n`,
  );
  for (const { name } of targets) {
    const values = cpu.get(name)!;
    const ratios = values.map((value, round) => value / base[round]!);
    process.stdout.write(
      `- ${name}: ${median(values).toFixed(0)} µs, ${median(ratios).toFixed(2)}× ` +
        `(${ratios.map((ratio) => ratio.toFixed(2)).join(', ')})\n`,
    );
  }
}

function requestCpuIn(target: Target, job: RequestCpuJob): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(join(import.meta.dirname, 'in-process-request.js'), [JSON.stringify(job)], {
      env: { PATH: process.env.PATH },
      // The target's node flags (the image's, for Runway), not those of the benchmark's own process.
      execArgv: target.nodeArgs ?? [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let cpu: number | undefined;
    child.on('message', (message: { cpu: number }) => (cpu = message.cpu));
    child.on('exit', (code) =>
      cpu === undefined ? reject(new Error(`${target.name}: exited with ${code}`)) : resolve(cpu),
    );
  });
}
