/** The printed report: one line per scenario, then each scenario's details. */
import { seconds, type Row } from './report.js';

const COLUMNS: [string, (row: Row) => string][] = [
  ['scenario', (row) => row.scenario],
  ['writes', (row) => String(row.writes)],
  ['acked', (row) => String(row.acknowledged)],
  ['missing', (row) => String(row.missing)],
  ['duplicated', (row) => String(row.duplicated)],
  ['refused', (row) => String(row.refused)],
  ['unacked rows', (row) => String(row.unacknowledgedRows)],
  [
    '503 (Retry-After, problem+json)',
    (row) => `${row.status503} (${row.status503WithRetryAfter}, ${row.status503ProblemJson})`,
  ],
  ['other 5xx', (row) => String(row.other5xx)],
  ['hung', (row) => String(row.hung)],
  ['resets', (row) => String(row.resets)],
  ['undelivered', (row) => String(row.undelivered)],
  ['crashes', (row) => String(row.crashes)],
  ['recovery', (row) => (row.recoveryMs === undefined ? 'none' : seconds(row.recoveryMs))],
  ['result', (row) => (row.failures.length === 0 ? 'ok' : `FAIL: ${row.failures.join(', ')}`)],
];

export function renderTable(rows: Row[]): string {
  const cells = [COLUMNS.map(([title]) => title), ...rows.map((row) => COLUMNS.map(([, cell]) => cell(row)))];
  const widths = COLUMNS.map((_, column) => Math.max(...cells.map((line) => line[column]!.length)));
  const lines = cells.map((line) =>
    line
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((width) => '-'.repeat(width)).join('  '));
  const details = rows.flatMap((row) => ['', `${row.scenario}:`, ...row.details.flatMap(indented)]);
  return [...lines, ...details].join('\n');
}

/** A detail under its scenario; the lines it continues on (what a crashed process printed) further in. */
function indented(detail: string): string[] {
  return detail.split('\n').map((line, index) => (index === 0 ? `  ${line}` : `      ${line}`));
}
