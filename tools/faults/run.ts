/**
 * `npm run faults [-- [--scenario <name>]... [--quick]]`: fault injection against two app instances under a write
 * load (see harness.ts). Prints one row per scenario and its details; exits 0 when every row passes (no acknowledged
 * write missing, no duplicate, no 5xx other than 503, no hung request, no reset of a request an instance had received,
 * no crash, exit 0 after SIGTERM), 1 otherwise, 2 on bad arguments, 130 when interrupted (everything started is stopped
 * first; a second Ctrl-C exits at once).
 */
import { parseArgs } from 'node:util';
import { runFaults, selectScenarios } from './harness.js';

const USAGE = 'usage: npm run faults [-- [--scenario <name>]... [--quick]]';

function readArguments(): { scenarios: string[]; quick: boolean } {
  try {
    const { values } = parseArgs({
      options: { scenario: { type: 'string', multiple: true }, quick: { type: 'boolean', default: false } },
    });
    const scenarios = values.scenario ?? [];
    selectScenarios(scenarios);
    return { scenarios, quick: values.quick };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
}

const { scenarios, quick } = readArguments();
const interrupt = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    if (interrupt.signal.aborted) process.exit(130);
    process.stderr.write(`${name}: stopping what was started…\n`);
    interrupt.abort(new Error(`${name} received`));
  });
}

const started = Date.now();
try {
  const report = await runFaults({
    scenarios,
    quick,
    signal: interrupt.signal,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const took = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(
    `${report.table}\n\n${report.rows.length} scenarios in ${took} s: ${report.ok ? 'all pass' : 'some fail'}\n`,
  );
  process.exitCode = report.ok ? 0 : 1;
} catch (error) {
  if (interrupt.signal.aborted) {
    process.stderr.write('interrupted; everything started was stopped\n');
    process.exitCode = 130;
  } else {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  }
}
