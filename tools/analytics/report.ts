import type { TableSize } from './sizes.js';

const MIB = 2 ** 20;
const GIB = 2 ** 30;
const mib = (bytes: number) =>
  bytes < MIB
    ? `${(bytes / 1024).toFixed(0)} KiB`
    : `${(bytes / MIB).toFixed(bytes < 100 * MIB ? 1 : 0)} MiB`;
const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** The sizes of the analytics tables, and what an event costs on disk (what capacity planning needs). */
export function printSizes(sizes: TableSize[], say: (line: string) => void): void {
  say('| Table | Rows | Table | Indexes | Total |');
  say('|---|---:|---:|---:|---:|');
  for (const size of sizes) {
    say(
      `| ${size.table} | ${count(size.rows)} | ${mib(size.tableBytes)} | ${mib(size.indexBytes)} | ` +
        `${mib(size.tableBytes + size.indexBytes)} |`,
    );
  }
  const events = sizes.find(({ table }) => table === 'analytics_events');
  if (!events?.rows) return;
  for (const [index, bytes] of Object.entries(events.indexes)) say(`  ${index}: ${mib(bytes)}`);
  const perEvent = (bytes: number) => bytes / events.rows;
  const eventBytes = events.tableBytes + events.indexBytes;
  const rollupBytes = sizes
    .filter((size) => size !== events)
    .reduce((sum, size) => sum + size.tableBytes + size.indexBytes, 0);
  say(
    `\nanalytics_events: ${perEvent(eventBytes).toFixed(0)} bytes per event ` +
      `(table ${perEvent(events.tableBytes).toFixed(0)} + indexes ${perEvent(events.indexBytes).toFixed(0)}), ` +
      `that is ${((perEvent(eventBytes) * 1e6) / GIB).toFixed(3)} GiB per million events, ` +
      `${count(GIB / perEvent(eventBytes))} events per GiB`,
  );
  say(
    `With the rollups (${mib(rollupBytes)}): ${perEvent(eventBytes + rollupBytes).toFixed(0)} bytes per event, ` +
      `${((perEvent(eventBytes + rollupBytes) * 1e6) / GIB).toFixed(3)} GiB per million events`,
  );
}
