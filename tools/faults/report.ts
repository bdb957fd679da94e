/** What a scenario's writes, the rows found in PostgreSQL and the instances' crashes add up to: one table row. */
import type { Exit } from './instance.js';
import type { StoredProject } from './lab.js';
import { retryDelay, type Attempt, type Write } from './load.js';

/** The connection was reset under the request: a failure if the app had received it (see Row). */
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE']);
const CRASH_LINES_SHOWN = 8;

export interface FaultOutcome {
  startedAt: number;
  /** When the fault ended: recovery is measured from here. */
  endedAt: number;
  /** Recovery counts 201s from this instance only (the one the fault hit), when set. */
  instance?: string;
  /**
   * An instance shutting down (SIGTERM to exit): what its requests got meanwhile is reported. The row fails when an
   * answer to a request sent after it logged the signal (`drainingAt`) lacks `Connection: close`, and when it exits
   * other than 0: a drain cut short resets requests the instance had received without logging them.
   */
  drain?: { instance: string; from: number; to: number; drainingAt?: number; exit: string };
  notes: string[];
}

export interface Crash {
  instance: string;
  exit: Exit;
}

export interface Row {
  scenario: string;
  writes: number;
  acknowledged: number;
  /** Acknowledged writes whose project (that name, that id) is not in the table. */
  missing: number;
  /** Names stored more than once. */
  duplicated: number;
  /**
   * Writes given up on a 4xx the load does not retry. Every write's name is new, so each is a bug; a retry that was not
   * recognised as one (its first attempt stored) answers 409 "already have a project with this name" here, as the
   * unique name keeps it from being stored twice.
   */
  refused: number;
  /** Stored projects no 201 acknowledged (the write was never acknowledged, or the name is unknown). */
  unacknowledgedRows: number;
  status503: number;
  status503WithRetryAfter: number;
  status503ProblemJson: number;
  /** 5xx answers other than 503. */
  other5xx: number;
  hung: number;
  /** Attempts reset after the instance received them (it logged their request id). */
  resets: number;
  /**
   * Attempts reset that the instance never read (not in its log): sent on a keep-alive connection it was closing as
   * idle, or on a new connection still queued when it stopped listening. A race on the client's side, which it settles
   * by retrying: not a failure. (A process that dies or exits mid-drain logs nothing for the requests it cuts: those
   * rows fail on their crash or exit code instead.)
   */
  undelivered: number;
  crashes: number;
  /** From the end of the fault to the first 201; undefined when none came. */
  recoveryMs: number | undefined;
  details: string[];
  /** Why the row fails; empty when it passes. */
  failures: string[];
}

export function summarise(
  scenario: string,
  writes: Write[],
  stored: StoredProject[],
  fault: FaultOutcome,
  crashes: Crash[],
  /** Whether the attempt's target logged its request id. */
  received: (attempt: Attempt) => boolean,
): Row {
  const attempts = writes.flatMap((write) => write.attempts);
  const acknowledged = writes.filter((write) => write.acknowledged);
  const unacknowledged = writes.filter((write) => !write.acknowledged);
  const count = (test: (attempt: Attempt) => boolean) => attempts.filter(test).length;

  const storedIds = new Map<string, string[]>();
  for (const { id, name } of stored) storedIds.set(name, [...(storedIds.get(name) ?? []), id]);
  const ackedNames = new Set(acknowledged.map((write) => write.name));
  const missing = acknowledged.filter(
    ({ name, acknowledged: ack }) => !storedIds.get(name)?.includes(ack!.projectId ?? ''),
  );
  const duplicated = [...storedIds].filter(([, ids]) => ids.length > 1).map(([name]) => name);
  const unacknowledgedRows = stored.filter(({ name }) => !ackedNames.has(name));
  // Not those still being retried when the load stopped (a 429, or a 409 with Retry-After: the key in flight).
  const refused = unacknowledged.filter(({ attempts: tried }) => {
    const last = tried.at(-1);
    return (
      last?.status !== undefined && last.status >= 400 && last.status < 500 && retryDelay(last) === undefined
    );
  });
  const resets = attempts.filter((attempt) => RESET_ERRORS.has(attempt.error ?? ''));
  const resetReceived = resets.filter(received);
  const undelivered = resets.filter((attempt) => !received(attempt));
  const drain = fault.drain && drained(attempts, fault.drain);
  const duringFault = attempts.filter(
    (attempt) => attempt.startedAt < fault.endedAt && attempt.endedAt > fault.startedAt,
  );

  const row: Row = {
    scenario,
    writes: writes.length,
    acknowledged: acknowledged.length,
    missing: missing.length,
    duplicated: duplicated.length,
    refused: refused.length,
    unacknowledgedRows: unacknowledgedRows.length,
    status503: count((attempt) => attempt.status === 503),
    status503WithRetryAfter: count((attempt) => attempt.status === 503 && attempt.retryAfter !== undefined),
    status503ProblemJson: count((attempt) => attempt.status === 503 && attempt.problemJson === true),
    other5xx: count(
      (attempt) => attempt.status !== undefined && attempt.status >= 500 && attempt.status !== 503,
    ),
    hung: count((attempt) => attempt.error === 'hung'),
    resets: resetReceived.length,
    undelivered: undelivered.length,
    crashes: crashes.length,
    recoveryMs: recovery(attempts, fault),
    details: [
      `writes: ${acknowledged.length} acknowledged, ${unacknowledged.length} not (their last attempt: ` +
        `${outcomes(unacknowledged.flatMap((write) => write.attempts.slice(-1)))}); projects stored: ${stored.length}`,
      `all attempts: ${outcomes(attempts)}; latency ${latency(attempts)}`,
      `attempts during the fault (${seconds(fault.endedAt - fault.startedAt)}): ${outcomes(duringFault)}; ` +
        `latency ${latency(duringFault)}`,
      ...fault.notes,
      ...(drain ? [drain.detail] : []),
      ...describeCrashes(crashes),
      ...examples(
        'missing',
        missing.map((write) => write.name),
      ),
      ...examples('duplicated', duplicated),
      ...examples(
        'refused',
        refused.map((write) => `${write.name} (${write.attempts.at(-1)!.status})`),
      ),
      ...(undelivered.length > 0
        ? [
            `resets of requests the instance never logged: ${undelivered.length} ` +
              `(${undelivered.filter((attempt) => attempt.reusedSocket).length} on a reused keep-alive connection)`,
          ]
        : []),
      ...examples(
        'reset after the instance received it',
        resetReceived.map(({ target, requestId }) => `${target} ${requestId}`),
      ),
      ...examples(
        'stored, never acknowledged',
        unacknowledgedRows.map((project) => project.name),
      ),
    ],
    failures: [],
  };
  row.failures = [
    row.missing > 0 && 'missing',
    row.duplicated > 0 && 'duplicated',
    row.refused > 0 && 'refused',
    row.other5xx > 0 && '5xx',
    row.hung > 0 && 'hung',
    row.resets > 0 && 'resets',
    row.crashes > 0 && 'crashes',
    drain?.failure,
    fault.drain && fault.drain.exit !== '0' && `exit ${fault.drain.exit}`,
  ].filter((failure): failure is string => typeof failure === 'string');
  return row;
}

/** From the end of the fault to the first 201 received after it (from the instance the fault hit, if one). */
function recovery(attempts: Attempt[], fault: FaultOutcome): number | undefined {
  const first = attempts
    .filter(
      (attempt) =>
        attempt.status === 201 &&
        attempt.endedAt >= fault.endedAt &&
        (fault.instance === undefined || attempt.target === fault.instance),
    )
    .reduce((earliest, attempt) => Math.min(earliest, attempt.endedAt), Infinity);
  return first === Infinity ? undefined : first - fault.endedAt;
}

/**
 * Attempts to the instance that overlapped its shutdown, by outcome; and the answers to those sent once it had logged
 * the signal, which must all say Connection: close (earlier ones may have been answered before it saw the signal).
 */
function drained(
  attempts: Attempt[],
  drain: NonNullable<FaultOutcome['drain']>,
): { detail: string; failure?: string } {
  const during = attempts.filter(
    (attempt) =>
      attempt.target === drain.instance && attempt.startedAt < drain.to && attempt.endedAt > drain.from,
  );
  const detail = `attempts to ${drain.instance} while it shut down: ${outcomes(during)}`;
  const since = drain.drainingAt;
  if (since === undefined) return { detail, failure: 'no shutdown logged' };
  const answered = during.filter((attempt) => attempt.status !== undefined && attempt.startedAt >= since);
  const keptAlive = answered.filter((attempt) => !attempt.connectionClose).length;
  return {
    detail:
      `${detail}; ${answered.length} answers to those sent once it had logged SIGTERM, ` +
      `${keptAlive} without Connection: close`,
    failure: keptAlive > 0 ? 'kept alive after SIGTERM' : undefined,
  };
}

/** Each distinct crash once, with the instances it happened to and the start of what the process printed. */
function describeCrashes(crashes: Crash[]): string[] {
  const byOutput = new Map<string, string[]>();
  for (const { instance, exit } of crashes) {
    const printed = exit.lastLines
      .split('\n')
      .filter((line) => !line.startsWith('{')) // the JSON log lines before it
      .slice(0, CRASH_LINES_SHOWN)
      .join('\n');
    byOutput.set(printed, [
      ...(byOutput.get(printed) ?? []),
      `${instance} (exit ${exit.code ?? exit.signal})`,
    ]);
  }
  return [...byOutput].map(
    ([printed, who]) => `crashed, then restarted: ${who.join(', ')}; printed:\n${printed}`,
  );
}

function outcomes(attempts: Attempt[]): string {
  const counts = new Map<string, number>();
  for (const { status, error } of attempts) {
    const outcome = String(status ?? error);
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  return counts.size === 0
    ? 'none'
    : [...counts]
        .sort()
        .map(([outcome, n]) => `${outcome} ×${n}`)
        .join(', ');
}

function latency(attempts: Attempt[]): string {
  const times = attempts
    .filter((attempt) => attempt.error !== 'abandoned')
    .map((attempt) => attempt.endedAt - attempt.startedAt)
    .sort((a, b) => a - b);
  if (times.length === 0) return '-';
  const at = (quantile: number) => times[Math.min(times.length - 1, Math.floor(quantile * times.length))]!;
  return `p50 ${seconds(at(0.5))}, p99 ${seconds(at(0.99))}, max ${seconds(times.at(-1)!)}`;
}

function examples(what: string, names: string[]): string[] {
  return names.length === 0
    ? []
    : [`${what}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`];
}

export function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
