/**
 * Child process of `--in-process`: starts one build of the app (this tree's or a `--compare` commit's) with the given
 * environment, injects `GET /v1/projects/:id` in a loop and sends its CPU per request to the parent. A process per
 * measurement, so that builds and tracing settings never share a heap, a JIT or an OpenTelemetry SDK.
 */
import { join } from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

export interface RequestCpuJob {
  /** The build's `dist/src`. */
  appDir: string;
  env: Record<string, string>;
  url: string;
  authorization: string;
  requests: number;
}

interface AppBuild {
  loadConfig(env: NodeJS.ProcessEnv): { telemetry: unknown };
  instrument(telemetry: unknown): Promise<void>;
  createApp(config: unknown): Promise<NestFastifyApplication>;
}

async function main(job: RequestCpuJob): Promise<number> {
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
  await cpuPerRequest(job.requests / 2); // warm up: JIT, pool, caches
  const result = await cpuPerRequest(job.requests);
  await app.close();
  return result;
}

main(JSON.parse(process.argv[2]!) as RequestCpuJob).then(
  (cpu) => process.send!({ cpu }, () => process.exit(0)),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
