/**
 * `--profile`: where the CPU of a profiled Runway process went during the measured load (startup and warm-up
 * left out), as self time per package and per function, from the `.cpuprofile` that `node --cpu-prof` writes.
 */
import { readFileSync } from 'node:fs';

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

interface Window {
  startMicros: number;
  endMicros: number;
}

const TOP = 12;

export function summariseProfile(path: string, window: Window): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const selfMicros = selfTimeInWindow(profile, window);
  const total = [...selfMicros.values()].reduce((sum, micros) => sum + micros, 0);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const micros = selfMicros.get(node.id) ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    add(byPackage, packageOf(url, functionName), micros);
    add(
      byFunction,
      url ? `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}` : functionName,
      micros,
    );
  }
  const share = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)} %`;
  const top = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)
      .map(([name, micros]) => `  ${share(micros)}  ${name}`);
  return [
    `CPU profile: ${path}`,
    `Self time during the measured load (${(total / 1000).toFixed(0)} ms sampled), by package:`,
    ...top(byPackage),
    'By function:',
    ...top(byFunction),
  ].join('\n');
}

/** Microseconds of samples per node, counting only samples taken inside the window. */
function selfTimeInWindow(profile: CpuProfile, window: Window): Map<number, number> {
  const self = new Map<number, number>();
  let time = profile.startTime;
  profile.samples.forEach((nodeId, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    time += delta;
    if (time >= window.startMicros && time <= window.endMicros) add(self, nodeId, delta);
  });
  return self;
}

function add<K>(map: Map<K, number>, key: K, micros: number): void {
  map.set(key, (map.get(key) ?? 0) + micros);
}

/**
 * `@nestjs/core`, `typeorm`, `runway` (its own dist/), `node` (built-in modules), `native writev` (C++ with no
 * script behind it: socket and file writes, hashing), or V8's own `(garbage collector)`, `(idle)`, `(program)`.
 */
function packageOf(url: string, functionName: string): string {
  const inNodeModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inNodeModules) return inNodeModules[1]!;
  if (url.startsWith('node:')) return 'node';
  if (url.includes('/dist/')) return 'runway';
  if (url) return url;
  return functionName.startsWith('(') ? functionName : `native ${functionName}`;
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/');
}
