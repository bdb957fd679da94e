/**
 * Child process of `--in-process`: starts one build of the app (this tree's or a `--compare` commit's) with the given
 * environment, warms it up, then injects `GET /v1/projects/:id` in batches the parent asks for, answering each with
 * its CPU per request. A process per target, so that builds and tracing settings never share a heap, a JIT or an
 * OpenTelemetry SDK; one batch at a time across all of them, so that they never compete for the cores.
 */
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export interface RequestCpuJob {
  /** The build's `dist/src`. */
  appDir: string;
  env: Record<string, string>;
  url: string;
  authorization: string;
  warmUpRequests: number;
}

/** From the parent: run a batch of this many requests, or close the app and exit. */
export type RequestCpuCommand = { batch: number } | { close: true };
/** To the parent: ready (after the warm-up), or one batch's CPU per request in µs. */
export type RequestCpuReply = { ready: true } | { cpu: number };

interface AppBuild {
  loadConfig(env: NodeJS.ProcessEnv): { telemetry: unknown };
  instrument(telemetry: unknown): Promise<void>;
  createApp(config: unknown): Promise<NestFastifyApplication>;
}

interface Started {
  app: NestFastifyApplication;
  cpuPerRequest: (count: number) => Promise<number>;
}

async function start(job: RequestCpuJob): Promise<Started> {
  // The SDK reads its OTEL_* settings from the process environment, as in production.
  Object.assign(process.env, job.env);
  const load = (file: string) => import(join(job.appDir, file)) as Promise<Partial<AppBuild>>;
  const { loadConfig } = await load('config/config.js');
  const config = loadConfig!(process.env);
  const { instrument } = await load('instrumentation.js');
  await instrument!(config.telemetry);
  const { createApp } = await load('app.js');
  const app = await createApp!(config);
  const fastify = app.getHttpAdapter().getInstance();
  while ((await fastify.inject({ method: 'GET', url: '/health/ready' })).statusCode !== 200) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const request = { method: 'GET' as const, url: job.url, headers: { authorization: job.authorization } };
  const cpuPerRequest = async (count: number) => {
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      const response = await fastify.inject(request);
      if (response.statusCode !== 200) throw new Error(`${job.url}: ${response.statusCode} ${response.body}`);
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };
  await cpuPerRequest(job.warmUpRequests); // JIT, pool, caches
  return { app, cpuPerRequest };
}

function fail(error: unknown): never {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}

const send = (reply: RequestCpuReply) => process.send!(reply);

start(JSON.parse(process.argv[2]!) as RequestCpuJob).then(({ app, cpuPerRequest }) => {
  process.on('message', (command: RequestCpuCommand) => {
    if ('close' in command) app.close().then(() => process.exit(0), fail);
    else cpuPerRequest(command.batch).then((cpu) => send({ cpu }), fail);
  });
  send({ ready: true });
}, fail);
