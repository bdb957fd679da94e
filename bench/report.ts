/**
 * The printed report: per scenario and target the median over rounds of each figure, and ratios taken within
 * each round (both targets measured minutes apart at most) before their median is taken.
 */
import { cpus, totalmem } from 'node:os';
import type { Load, Measurement } from './measure.js';

export interface ScenarioResult {
  scenario: string;
  /** Set when a request carries many items (a batch of events). */
  items?: { perRequest: number; unit: string };
  /** In the order of the report; the first is the baseline. */
  targets: string[];
  /** One entry per round: target name → its measurement in that round. */
  rounds: Map<string, Measurement>[];
}

/** A variant measured beside Runway, and how its difference is named: `with`/`without` the thing it changes. */
export interface Variant {
  target: string;
  /** `Tracing overhead`: variant ÷ runway; `Rate limiter cost`: runway ÷ variant (the variant lacks it). */
  label: string;
  adds: boolean;
}

export interface ReportSettings {
  load: Load;
  rounds: number;
  runway: string;
  variants: Variant[];
  /** The `--compare` target, when there is one. */
  ref?: { target: string; commit: string };
}

type Metric =
  | 'requestsPerSecond'
  | 'p50'
  | 'p99'
  | 'rssMiB'
  | 'coldStartMs'
  | 'cpuMicrosPerRequest'
  | 'databaseCpuMicrosPerRequest';

/** Round r starts with the r-th item, so that none is always measured first or last. */
export function rotate<T>(items: T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function medianOf(result: ScenarioResult, target: string, metric: Metric): number {
  return median(result.rounds.map((round) => round.get(target)![metric]));
}

function ratiosPerRound(result: ScenarioResult, numerator: string, denominator: string, metric: Metric) {
  return result.rounds.map((round) => round.get(numerator)![metric] / round.get(denominator)![metric]);
}

function medianRatio(result: ScenarioResult, numerator: string, denominator: string, metric: Metric) {
  return median(ratiosPerRound(result, numerator, denominator, metric));
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const times = (ratio: number) => `${ratio.toFixed(2)}×`;
const percent = (ratio: number) => `${ratio >= 1 ? '+' : '−'}${(Math.abs(ratio - 1) * 100).toFixed(1)} %`;

export function printReport(results: ScenarioResult[], settings: ReportSettings): void {
  printHeader(settings);
  printMedians(results);
  printItemRates(results);
  if (settings.ref) printBeforeAfter(results, settings.runway, settings.ref.target);
  for (const variant of settings.variants) printVariantCost(results, settings.runway, variant);
}

function printHeader({ load, rounds, runway, ref }: ReportSettings): void {
  out(`\nRunway benchmark — ${new Date().toISOString()}`);
  out(
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  );
  out(
    `Load: autocannon, ${load.connections} connections, ${load.durationS} s per run after a 2 s warm-up, loopback; ` +
      `${rounds} rounds, target order rotated every round, a fresh process per run; medians over rounds`,
  );
  if (load.memoryMiB !== undefined)
    out(`Memory: each server in a ${load.memoryMiB} MiB cgroup (BENCH_MEMORY_MIB)`);
  if (ref) out(`Compared: ${runway} (working tree) with ${ref.target} (${ref.commit.slice(0, 12)})`);
  out();
}

function printMedians(results: ScenarioResult[]): void {
  out(
    '| Endpoint | Target | req/s | p50 ms | p99 ms | errors | RSS MiB | cold start ms | CPU µs/req ' +
      '| PostgreSQL CPU µs/req | req/s ÷ baseline | CPU/req ÷ baseline | p99 ÷ baseline |',
  );
  out('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const result of results) {
    const [baseline, ...runways] = result.targets;
    for (const target of result.targets) {
      const cell = (metric: Metric, digits = 0) => medianOf(result, target, metric).toFixed(digits);
      const errors = result.rounds.reduce((sum, round) => sum + round.get(target)!.errors, 0);
      const ratio = (metric: Metric) =>
        runways.includes(target) ? times(medianRatio(result, target, baseline!, metric)) : '';
      out(
        `| ${result.scenario} | ${target} | ${cell('requestsPerSecond')} | ${cell('p50')} | ${cell('p99')} | ` +
          `${errors} | ${cell('rssMiB')} | ${cell('coldStartMs')} | ${cell('cpuMicrosPerRequest')} | ` +
          `${cell('databaseCpuMicrosPerRequest')} | ` +
          `${ratio('requestsPerSecond')} | ${ratio('cpuMicrosPerRequest')} | ${ratio('p99')} |`,
      );
    }
  }
}

/** For batch endpoints: items per second and CPU per item, the figures a batch API is judged by. */
function printItemRates(results: ScenarioResult[]): void {
  for (const result of results.filter(({ items }) => items)) {
    const { perRequest, unit } = result.items!;
    const [baseline] = result.targets;
    out(`\n${result.scenario}, per item (${perRequest} ${unit} a request, medians over rounds):`);
    for (const target of result.targets) {
      const rate = medianOf(result, target, 'requestsPerSecond') * perRequest;
      const cpu = medianOf(result, target, 'cpuMicrosPerRequest') / perRequest;
      const databaseCpu = medianOf(result, target, 'databaseCpuMicrosPerRequest') / perRequest;
      const ratio =
        target === baseline
          ? ''
          : `, ${times(medianRatio(result, target, baseline!, 'requestsPerSecond'))} the baseline's rate`;
      out(
        `- ${target}: ${Math.round(rate).toLocaleString('en-US')} ${unit}/s, ${cpu.toFixed(1)} µs CPU per item ` +
          `in the server and ${databaseCpu.toFixed(1)} µs in PostgreSQL${ratio}`,
      );
    }
  }
}

function printBeforeAfter(results: ScenarioResult[], current: string, ref: string): void {
  out(`\nBefore/after: ${current} ÷ ${ref}, median of the per-round ratios (per round in brackets)\n`);
  out(
    '| Endpoint | req/s after ÷ before | CPU/req after ÷ before | p99 after ÷ before | RSS after ÷ before |',
  );
  out('|---|---:|---:|---:|---:|');
  for (const result of results) {
    const cell = (metric: Metric) => {
      const perRound = ratiosPerRound(result, current, ref, metric).map((ratio) => ratio.toFixed(2));
      return `${times(medianRatio(result, current, ref, metric))} (${perRound.join(', ')})`;
    };
    out(
      `| ${result.scenario} | ${cell('requestsPerSecond')} | ${cell('cpuMicrosPerRequest')} | ${cell('p99')} | ` +
        `${cell('rssMiB')} |`,
    );
  }
}

function printVariantCost(results: ScenarioResult[], runway: string, { target, label, adds }: Variant): void {
  const [withIt, withoutIt] = adds ? [target, runway] : [runway, target];
  for (const result of results.filter(({ targets }) => targets.includes(target))) {
    const ratio = (metric: Metric) => medianRatio(result, withIt, withoutIt, metric);
    out(
      `\n${label} on ${result.scenario} (${withIt} ÷ ${withoutIt}, median of per-round ratios): ` +
        `req/s ${percent(ratio('requestsPerSecond'))}, CPU per request ${percent(ratio('cpuMicrosPerRequest'))}, ` +
        `p99 ${percent(ratio('p99'))}`,
    );
  }
}
