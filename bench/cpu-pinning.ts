/**
 * `BENCH_PIN=1` (with `--in-process`): PostgreSQL on the first core, each measured app on the last, so that neither
 * takes the other's core in the middle of a batch: on two shared cores, two processes of the same build then land
 * within a few per cent of each other (bench/README.md). Needs util-linux's `taskset` and at least two cores.
 */
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { postgresPids } from './proc.js';

export function pinningRequested(): boolean {
  return process.env.BENCH_PIN === '1';
}

/** Every PostgreSQL process of the server on the first core; the backends it starts later inherit it. */
export function pinPostgres(postmasterPid: number): void {
  for (const pid of postgresPids(postmasterPid)) pin(pid, 0);
}

/** A process, every thread of it, on the last core. */
export function pinApp(pid: number): void {
  pin(pid, availableParallelism() - 1);
}

function pin(pid: number, core: number): void {
  if (availableParallelism() < 2) throw new Error('BENCH_PIN needs at least two cores');
  try {
    execFileSync('taskset', ['--all-tasks', '--pid', '--cpu-list', String(core), String(pid)], {
      stdio: 'ignore',
    });
  } catch (error) {
    throw new Error(`BENCH_PIN needs util-linux's taskset: ${(error as Error).message}`, { cause: error });
  }
}
