/**
 * One measurement: start a fresh server process, wait until it is ready, warm it up, load it with autocannon,
 * read its CPU time and memory from /proc, stop it.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort } from '../tools/dev/embedded-postgres.js';

const WARM_UP_S = 2;
const READY_TIMEOUT_MS = 60_000;

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
  headers?: Record<string, string>;
  /** A new body for every request (e.g. unique names). */
  body?: () => string;
  /** Also measure Runway's variants (tracing on, rate limits off), to report what each costs. */
  variants?: boolean;
}

export interface Load {
  connections: number;
  durationS: number;
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
  /** When the measured load ran, in microseconds of the monotonic clock (the one CPU profiles use). */
  loadWindow: { startMicros: number; endMicros: number };
}

export async function measure(target: Target, scenario: Scenario, load: Load): Promise<Measurement> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...(target.nodeArgs ?? []), target.script], {
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
    const cpuBefore = cpuMicros(child.pid!);
    const startMicros = monotonicMicros();
    const result = await runLoad(url, scenario, load.connections, load.durationS);
    const endMicros = monotonicMicros();
    const cpuUsed = cpuMicros(child.pid!) - cpuBefore;
    return {
      requestsPerSecond: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.non2xx,
      rssMiB: rssMiB(child.pid!),
      coldStartMs,
      cpuMicrosPerRequest: cpuUsed / result.requests.total,
      loadWindow: { startMicros, endMicros },
    };
  } finally {
    process.off('exit', killOnExit);
    await stop(child);
  }
}

function runLoad(
  url: string,
  scenario: Scenario,
  connections: number,
  duration: number,
): Promise<autocannon.Result> {
  const body = scenario.body;
  return autocannon({
    url: url + scenario.path,
    connections,
    duration,
    method: scenario.method,
    headers: scenario.headers,
    ...(body ? { requests: [{ setupRequest: (request) => ({ ...request, body: body() }) }] } : {}),
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

/** SIGTERM and wait for the exit: a CPU profile is written then. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

function monotonicMicros(): number {
  return Number(process.hrtime.bigint() / 1000n);
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
