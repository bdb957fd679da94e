/**
 * Runs the fault scenarios: per scenario a fresh proxy in front of the shared PostgreSQL and two fresh app instances
 * behind it, a load on both, the fault after a warm-up, the load kept on through a recovery window, then the writes
 * checked against the projects table and, once the instances have stopped, against the requests they logged.
 * Everything started is stopped, on errors and on abort too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../dev/ports.js';
import { AppInstance } from './instance.js';
import { startLab, type Lab, type StoredProject } from './lab.js';
import { HUNG_MS, Load, type Attempt, type Write } from './load.js';
import { FaultProxy } from './proxy.js';
import { summarise, type FaultOutcome, type Row } from './report.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { renderTable } from './table.js';

const TIMING = {
  full: { warmUpMs: 2_000, recoveryMs: 5_000 },
  quick: { warmUpMs: 1_000, recoveryMs: 2_000 },
};
/** Once the load stops, the writes under way may still retry this long: past a hung attempt. */
const SETTLE_MS = HUNG_MS + 5_000;

export interface FaultsOptions {
  /** Scenario names (see SCENARIOS); all when absent or empty. */
  scenarios?: readonly string[];
  /** The same scenarios, each fault lasting a few seconds. */
  quick?: boolean;
  /** Stops the run (Ctrl-C); what was started is stopped before runFaults rejects. */
  signal?: AbortSignal;
  /** Progress lines. */
  progress?: (line: string) => void;
}

export interface FaultsReport {
  rows: Row[];
  /** No row failed. */
  ok: boolean;
  /** The table and each scenario's details, as printed. */
  table: string;
}

export function selectScenarios(names: readonly string[] = []): Scenario[] {
  const unknown = names.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
  if (unknown.length > 0) {
    throw new Error(
      `unknown scenario ${unknown.join(', ')}; choose among ${SCENARIOS.map(({ name }) => name).join(', ')}`,
    );
  }
  return names.length === 0 ? SCENARIOS : SCENARIOS.filter(({ name }) => names.includes(name));
}

export async function runFaults(options: FaultsOptions = {}): Promise<FaultsReport> {
  const scenarios = selectScenarios(options.scenarios);
  const signal = options.signal ?? new AbortController().signal;
  const progress = options.progress ?? (() => undefined);
  progress('starting PostgreSQL and migrating it…');
  const lab = await startLab();
  try {
    const rows: Row[] = [];
    for (const scenario of scenarios) {
      signal.throwIfAborted();
      const started = Date.now();
      progress(`${scenario.name}: ${scenario.title}…`);
      rows.push(await runScenario(lab, scenario, options.quick ?? false, signal));
      progress(`${scenario.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    return { rows, ok: rows.every((row) => row.failures.length === 0), table: renderTable(rows) };
  } finally {
    await lab.close();
  }
}

async function runScenario(lab: Lab, scenario: Scenario, quick: boolean, signal: AbortSignal): Promise<Row> {
  const timing = quick ? TIMING.quick : TIMING.full;
  const proxy = await FaultProxy.start(lab.database);
  const instances: AppInstance[] = [];
  let writes: Write[], stored: StoredProject[], fault: FaultOutcome;
  try {
    for (const name of ['a', 'b']) {
      instances.push(new AppInstance(name, await freePort(), lab.appEnv(proxy.address)));
    }
    await Promise.all(instances.map((instance) => instance.launch(signal)));
    const caller = lab.newCaller();
    const load = new Load({
      targets: instances,
      token: caller.token,
      workers: scenario.workers,
      namePrefix: scenario.name,
      signal,
    });
    load.start();
    try {
      await sleep(timing.warmUpMs, undefined, { signal });
      fault = await scenario.inject({ proxy, instances, quick, signal });
      await sleep(timing.recoveryMs, undefined, { signal });
    } catch (error) {
      await load.stop(0);
      throw error;
    }
    writes = await load.stop(SETTLE_MS);
    stored = await lab.projectsOf(caller.sub);
  } finally {
    // The proxy first: connections the app is stuck on close, so that it stops at once.
    await proxy.stop();
    await Promise.all(instances.map((instance) => instance.terminate()));
  }
  // Stopped: their logs are read to the end.
  const crashes = instances.flatMap(({ name, crashes }) => crashes.map((exit) => ({ instance: name, exit })));
  const received = (attempt: Attempt) =>
    instances.some(({ name, received }) => name === attempt.target && received.has(attempt.requestId));
  return summarise(scenario.name, writes, stored, fault, crashes, received);
}
