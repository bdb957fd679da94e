/**
 * `npm run bench -- --in-process`: what one part of the request path costs, measured apart from the load generator
 * and the database (whose noise, on two shared cores, hides differences of a few per cent). The part runs in a tight
 * loop in this process, on the real objects of a running app, and its CPU per call is set against the CPU of a whole
 * request to the same app (injected, no network): its share of a request.
 */
import { HttpAdapterHost } from '@nestjs/core';
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../src/app.js';
import { RateLimitGuard } from '../src/auth/rate-limit.guard.js';
import { APP_CONFIG, loadConfig } from '../src/config/config.js';
import { ProjectsController } from '../src/projects/projects.controller.js';
import { pinApp, pinningRequested, pinPostgres } from './cpu-pinning.js';
import { BENCH_CLIENT_ID, BENCH_POOL, type Fixture } from './fixture.js';
import type { RequestCpuCommand, RequestCpuJob, RequestCpuReply } from './in-process-request.js';
import type { Target } from './measure.js';
import { median, rotate } from './report.js';

const REQUESTS = 3_000;
/** Requests per batch, and batches of each target per round, in the comparison of targets. */
const BATCH = 1_000;
const BATCHES = 6;
const CALLS = 200_000;

/**
 * `targets`: Runway and its variants (tracing, rate limits off, the `--compare` commit), the first being Runway as
 * built. Each is set against it by the CPU of a whole injected request (see {@link compareRequestCpu}).
 */
export async function measureParts(
  fixture: Fixture,
  rounds: number,
  targets: Target[],
  postgresPid: number,
): Promise<void> {
  if (pinningRequested()) {
    pinPostgres(postgresPid);
    // The apps measured here and the processes it forks, which inherit its core.
    pinApp(process.pid);
    process.stdout.write('BENCH_PIN: PostgreSQL on the first core, the apps on the last\n');
  }
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
  const guard = new RateLimitGuard(app.get(APP_CONFIG), app.get(HttpAdapterHost));
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
 * CPU per injected `GET /v1/projects/:id` of each target. Every round starts a fresh process per target (the same
 * code in two processes can differ by up to 10 % for as long as they live) and loads them in turn, one batch at a
 * time, the order rotated every batch: a machine that slows down or speeds up moves every target's batches alike. A
 * round's ratio to the first target is the median of its batches' ratios; the median of the rounds' is printed. No
 * network and no load generator: only the app's own work (and its waits on the database) is in these figures.
 */
async function compareRequestCpu(fixture: Fixture, rounds: number, targets: Target[]): Promise<void> {
  const cpu = new Map<string, number[]>(targets.map(({ name }) => [name, []]));
  const ratios = new Map<string, number[]>(targets.map(({ name }) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    const batches = await requestCpuRound(fixture, rotate(targets, round));
    const base = batches.get(targets[0]!.name)!;
    for (const { name } of targets) {
      const values = batches.get(name)!;
      cpu.get(name)!.push(median(values));
      ratios.get(name)!.push(median(values.map((value, batch) => value / base[batch]!)));
      process.stdout.write(
        `round ${round + 1}/${rounds}: ${name} ${median(values).toFixed(0)} µs CPU per request\n`,
      );
    }
  }
  process.stdout.write(
    `\nCPU per injected GET /v1/projects/:id, median of ${rounds} rounds of ${BATCHES} batches ` +
      `(÷ ${targets[0]!.name}, per round):\n`,
  );
  for (const { name } of targets) {
    const perRound = ratios.get(name)!;
    process.stdout.write(
      `- ${name}: ${median(cpu.get(name)!).toFixed(0)} µs, ${median(perRound).toFixed(2)}× ` +
        `(${perRound.map((ratio) => ratio.toFixed(2)).join(', ')})\n`,
    );
  }
}

/** One round: a fresh, warmed-up process per target, then {@link BATCHES} batches of each; CPU per request of each. */
async function requestCpuRound(fixture: Fixture, targets: Target[]): Promise<Map<string, number[]>> {
  const workers: RequestCpuWorker[] = [];
  try {
    for (const target of targets) {
      workers.push(
        await startWorker(target, {
          appDir: dirname(target.script),
          env: target.env,
          url: `/v1/projects/${fixture.user.projectId}`,
          authorization: `Bearer ${fixture.token}`,
          warmUpRequests: REQUESTS,
        }),
      );
    }
    const cpu = new Map<string, number[]>(workers.map(({ name }) => [name, []]));
    for (let batch = 0; batch < BATCHES; batch++) {
      for (const worker of rotate(workers, batch)) cpu.get(worker.name)!.push(await worker.batch(BATCH));
    }
    return cpu;
  } finally {
    await Promise.all(workers.map((worker) => worker.close()));
  }
}

interface RequestCpuWorker {
  name: string;
  batch(requests: number): Promise<number>;
  close(): Promise<void>;
}

/** A target's app in a child process (`in-process-request.ts`), warmed up and waiting for batches. */
function startWorker(target: Target, job: RequestCpuJob): Promise<RequestCpuWorker> {
  const child = fork(join(import.meta.dirname, 'in-process-request.js'), [JSON.stringify(job)], {
    env: { PATH: process.env.PATH },
    // The target's node flags (the image's, for Runway), not those of the benchmark's own process.
    execArgv: target.nodeArgs ?? [],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const reply = () =>
    new Promise<RequestCpuReply>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`${target.name}: exited with ${code}`));
      child.once('exit', onExit);
      child.once('message', (message: RequestCpuReply) => {
        child.off('exit', onExit);
        resolve(message);
      });
    });
  const send = (command: RequestCpuCommand) => child.send(command);
  return reply().then(() => ({
    name: target.name,
    async batch(requests) {
      const answer = reply();
      send({ batch: requests });
      const message = await answer;
      if (!('cpu' in message)) throw new Error(`${target.name}: unexpected ${JSON.stringify(message)}`);
      return message.cpu;
    },
    async close() {
      if (child.connected) send({ close: true });
      await exited;
    },
  }));
}
