/**
 * A new migration's timestamp: now, or after every migration there is when this machine's clock is behind one of
 * them (migrations run in their timestamps' order, so a new one must sort last).
 */
export function migrationTimestamp(files: string[], now: number): number {
  const latest = Math.max(0, ...files.map((file) => Number(/^(\d+)-/.exec(file)?.[1] ?? 0)));
  return Math.max(now, latest + 1);
}
