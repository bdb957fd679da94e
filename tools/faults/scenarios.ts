/**
 * The faults `npm run faults` injects while the load runs: each returns once its fault is over. Durations are those of
 * a full run, then of `--quick`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppInstance } from './instance.js';
import { DB_POOL_MAX } from './lab.js';
import type { FaultProxy, ProxyMode } from './proxy.js';
import type { FaultOutcome } from './report.js';

export interface Stage {
  proxy: FaultProxy;
  /** Two instances, `a` and `b`. */
  instances: readonly AppInstance[];
  quick: boolean;
  signal: AbortSignal;
}

export interface Scenario {
  name: string;
  /** What happens, for the progress lines. */
  title: string;
  workers: number;
  inject(stage: Stage): Promise<FaultOutcome>;
}

/** The proxy in `mode` for `seconds` (`quickSeconds` with --quick), then back to pass. */
function proxyFault(mode: ProxyMode, seconds: number, quickSeconds: number): Scenario['inject'] {
  return async ({ proxy, quick, signal }) => {
    const startedAt = Date.now();
    proxy.setMode(mode);
    await sleep((quick ? quickSeconds : seconds) * 1000, undefined, { signal });
    proxy.setMode({ kind: 'pass' });
    return { startedAt, endedAt: Date.now(), notes: [] };
  };
}

/**
 * SIGTERM to instance b while loaded, the proxy `during` its drain; once it has exited, the proxy passes again and b
 * is started again on its port.
 */
function sigterm(during: ProxyMode): Scenario['inject'] {
  return async ({ proxy, instances, signal }) => {
    const victim = instances[1]!;
    proxy.setMode(during);
    const sentAt = Date.now();
    const exit = await victim.terminate();
    proxy.setMode({ kind: 'pass' });
    if (!exit) throw new Error(`instance ${victim.name} was not running`);
    await victim.launch(signal);
    const readyAt = Date.now();
    return {
      startedAt: sentAt,
      endedAt: readyAt,
      instance: victim.name,
      drain: {
        instance: victim.name,
        from: sentAt,
        to: exit.at,
        drainingAt: exit.drainingAt,
        exit: String(exit.code ?? exit.signal),
      },
      notes: [
        `${victim.name} exited with ${exit.code ?? exit.signal} ${exit.at - sentAt} ms after SIGTERM, ` +
          `was ready again ${readyAt - exit.at} ms later (recovery: from then to its first 201)`,
      ],
    };
  };
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'outage',
    title: 'PostgreSQL unreachable: every connection, open or new, reset',
    workers: 20,
    inject: proxyFault({ kind: 'drop' }, 10, 3),
  },
  {
    name: 'black-hole',
    title: 'PostgreSQL stops answering: connections open during the fault never answer again',
    workers: 20,
    inject: proxyFault({ kind: 'blackhole' }, 20, 4),
  },
  {
    name: 'latency',
    title: `200 ms added each way, ${DB_POOL_MAX} workers: no more than an instance's pool`,
    workers: DB_POOL_MAX,
    inject: proxyFault({ kind: 'delay', ms: 200 }, 10, 3),
  },
  {
    name: 'resets',
    title: 'database connections reset (RST) at random, p = 0.2 every 500 ms',
    workers: 20,
    inject: proxyFault({ kind: 'reset', probability: 0.2 }, 10, 3),
  },
  {
    name: 'pool-exhaustion',
    title: `100 ms added each way, ${8 * DB_POOL_MAX} workers for ${2 * DB_POOL_MAX} pooled connections`,
    workers: 8 * DB_POOL_MAX,
    inject: proxyFault({ kind: 'delay', ms: 100 }, 10, 3),
  },
  {
    name: 'sigterm',
    title: 'SIGTERM to instance b under load; restarted once it has exited',
    workers: 20,
    inject: sigterm({ kind: 'pass' }),
  },
  {
    name: 'sigterm-black-hole',
    title: 'SIGTERM to instance b while PostgreSQL stops answering: its drain still ends, with exit 0',
    workers: 20,
    inject: sigterm({ kind: 'blackhole' }),
  },
];
