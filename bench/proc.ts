/** CPU time from /proc, in µs (the kernel counts in ticks of 10 ms: measure over seconds, not single requests). */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MICROS = 10_000;

interface Stat {
  pid: number;
  parent: number;
  command: string;
  /** utime + stime, in ticks. */
  own: number;
  /** cutime + cstime: the CPU of its children that have ended, in ticks. */
  children: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      parent: Number(fields[1]),
      command: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')),
      own: Number(fields[11]) + Number(fields[12]),
      children: Number(fields[13]) + Number(fields[14]),
    };
  } catch {
    return undefined; // it ended meanwhile
  }
}

/** User + system CPU of one process so far. */
export function processCpuMicros(pid: number): number {
  return (stat(pid)?.own ?? NaN) * TICK_MICROS;
}

/**
 * User + system CPU of a PostgreSQL server so far: its main process, the backends and
 * workers it runs, and those that have ended (the main process collects their CPU). Without a pid: every PostgreSQL
 * process of the machine.
 */
export function postgresCpuMicros(postmasterPid?: number): number {
  let ticks = 0;
  for (const process of postgresProcesses(postmasterPid)) ticks += process.own + process.children;
  return ticks * TICK_MICROS;
}

/** The pids of a PostgreSQL server's processes: its main process, and the backends and workers it runs. */
export function postgresPids(postmasterPid: number): number[] {
  return postgresProcesses(postmasterPid).map(({ pid }) => pid);
}

function postgresProcesses(postmasterPid?: number): Stat[] {
  const found: Stat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const process = stat(Number(entry));
    if (process?.command !== 'postgres') continue;
    const inServer =
      postmasterPid === undefined || process.pid === postmasterPid || process.parent === postmasterPid;
    if (inServer) found.push(process);
  }
  return found;
}
