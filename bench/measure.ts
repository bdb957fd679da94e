/**
 * One measurement: start a fresh server process, wait until it is ready, warm it up, load it with autocannon,
 * read its CPU time and memory from /proc, stop it.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { memoryLimit } from './memory-limit.js';
import { postgresCpuMicros, processCpuMicros } from './proc.js';
import { freePort } from '../tools/dev/ports.js';

const WARM_UP_S = 2;
const READY_TIMEOUT_MS = 60_000;
/** Longer than the app's own drain (SHUTDOWN_TIMEOUT_MS, 25 s by default). */
const STOP_TIMEOUT_MS = 40_000;

export interface Target {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Flags for `node` before the script, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
}

/** One row per endpoint; later features add theirs to `scenarios` in bench/run.ts. */
export interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  /** Fixed, or new for every request (e.g. callers taking turns). */
  headers?: Record<string, string> | (() => Record<string, string>);
  /** A new body for every request (e.g. unique names). */
  body?: () => string;
  /** Also measure Runway's variants (tracing on, rate limits off), to report what each costs. */
  variants?: boolean;
  /** What one request carries, when it carries many (a batch of events): the report gives rates per item too. */
  items?: { perRequest: number; unit: string };
}

export interface Load {
  connections: number;
  durationS: number;
  /** Each server in a memory cgroup of this size (`BENCH_MEMORY_MIB`), as in a Fargate task of that memory. */
  memoryMiB?: number;
}

export interface Measurement {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  errors: number;
  rssMiB: number;
  coldStartMs: number;
  /** The server's CPU time per request: steadier than req/s when the load generator shares the cores. */
  cpuMicrosPerRequest: number;
  /** PostgreSQL's CPU time per request (all its processes). */
  databaseCpuMicrosPerRequest: number;
  /** When the measured load ran, in microseconds of the monotonic clock (the one CPU profiles use). */
  loadWindow: { startMicros: number; endMicros: number };
}

/** `postmasterPid`: the database's server, whose CPU is measured too. */
export async function measure(
  target: Target,
  scenario: Scenario,
  load: Load,
  postmasterPid: number,
): Promise<Measurement> {
  const port = await freePort();
  const started = performance.now();
  const memory = load.memoryMiB === undefined ? undefined : memoryLimit(load.memoryMiB);
  const node: [string, string[]] = [process.execPath, [...(target.nodeArgs ?? []), target.script]];
  const child = spawn(...(memory ? memory.wrap(...node) : node), {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...target.env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  // Should the benchmark itself be stopped (a signal, an exit), the server goes with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitUntilReady(url, child);
    const coldStartMs = performance.now() - started;
    await runLoad(url, scenario, load.connections, WARM_UP_S); // JIT, pool
    const cpuBefore = processCpuMicros(child.pid!);
    const databaseCpuBefore = postgresCpuMicros(postmasterPid);
    const startMicros = monotonicMicros();
    const result = await runLoad(url, scenario, load.connections, load.durationS);
    const endMicros = monotonicMicros();
    const cpuUsed = processCpuMicros(child.pid!) - cpuBefore;
    const databaseCpuUsed = postgresCpuMicros(postmasterPid) - databaseCpuBefore;
    return {
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.non2xx,
      rssMiB: rssMiB(child.pid!),
      coldStartMs,
      cpuMicrosPerRequest: cpuUsed / result.requests.total,
      databaseCpuMicrosPerRequest: databaseCpuUsed / result.requests.total,
      loadWindow: { startMicros, endMicros },
    };
  } finally {
    process.off('exit', killOnExit);
    await stop(child);
    memory?.remove();
  }
}

function runLoad(
  url: string,
  scenario: Scenario,
  connections: number,
  duration: number,
): Promise<autocannon.Result> {
  const { body, headers } = scenario;
  const perRequest = (request: autocannon.Request) => ({
    ...request,
    ...(typeof headers === 'function' ? { headers: headers() } : {}),
    ...(body ? { body: body() } : {}),
  });
  return autocannon({
    url: url + scenario.path,
    connections,
    duration,
    method: scenario.method,
    headers: typeof headers === 'function' ? undefined : headers,
    ...(body || typeof headers === 'function' ? { requests: [{ setupRequest: perRequest }] } : {}),
  });
}

async function waitUntilReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before it was ready`);
    const status = await fetch(`${url}/health/ready`)
      .then((response) => response.status)
      .catch(() => 0);
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`not ready within ${READY_TIMEOUT_MS / 1000} s`);
}

/**
 * SIGTERM and wait for the exit: a CPU profile is written then. A process still there after STOP_TIMEOUT_MS is
 * killed: Node can deadlock in its own exit, after the app has stopped (nodejs/node#54918).
 */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    process.stderr.write(`pid ${child.pid} did not exit ${STOP_TIMEOUT_MS / 1000} s after SIGTERM: killed\n`);
    child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kib ? Number(kib) / 1024 : NaN;
}
