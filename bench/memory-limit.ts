/**
 * `BENCH_MEMORY_MIB`: each server runs in a memory cgroup of that size, as in a Fargate task of that memory. V8 and
 * Node size the heap from the memory a process sees, so RSS and CPU per request depend on it. Needs root and a
 * writable cgroup memory controller (v2, or v1's `memory` hierarchy).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface MemoryLimit {
  mib: number;
  /** The command and arguments that run `command args` inside the cgroup. */
  wrap(command: string, args: string[]): [string, string[]];
  /** Removes the cgroup (once its processes have exited). */
  remove(): void;
}

export function memoryLimit(mib: number): MemoryLimit {
  const bytes = String(mib * 1024 * 1024);
  const name = `runway-bench-${process.pid}`;
  const v2 = readIfExists('/sys/fs/cgroup/cgroup.controllers')?.split(/\s+/).includes('memory');
  const dir = v2 ? join('/sys/fs/cgroup', name) : join('/sys/fs/cgroup/memory', name);
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, v2 ? 'memory.max' : 'memory.limit_in_bytes'), bytes);
  } catch (error) {
    throw new Error(
      `BENCH_MEMORY_MIB needs root and a writable cgroup memory controller: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    mib,
    // The shell moves itself into the cgroup, then becomes the server (same pid).
    wrap: (command, args) => [
      'sh',
      ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec "$0" "$@"`, command, ...args],
    ],
    remove: () => {
      if (existsSync(dir)) rmdirSync(dir);
    },
  };
}

function readIfExists(file: string): string | undefined {
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}
