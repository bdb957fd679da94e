import { join } from 'node:path';
import { ROOT } from '../root.js';
import { reachableDataDir, runningPort, startEmbeddedPostgres } from './embedded-postgres.js';
import { freePort, isFree } from './ports.js';

/** This checkout's development database (`.data/postgres`, or its staged place when run as root; see there). */
export const DEV_DATA_DIR = reachableDataDir(join(ROOT, '.data', 'postgres'));
const DEFAULT_PORT = 54329;
const DEV_DATABASE = 'runway';

export interface DevDatabase {
  url: string;
  /** Stops the embedded server if this call started it. */
  release(): Promise<void>;
}

const urlFor = (port: number) => `postgres://postgres:postgres@127.0.0.1:${port}/${DEV_DATABASE}`;

/**
 * DATABASE_URL when set; otherwise this checkout's embedded server, reused when it runs already (under another
 * `npm run dev`, say), else started on DEV_DB_PORT — or on a free port when something else holds that one.
 */
export async function devDatabase(
  log: (line: string) => void = () => undefined,
  { dataDir = DEV_DATA_DIR, env = process.env } = {},
): Promise<DevDatabase> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, release: () => Promise.resolve() };
  const running = runningPort(dataDir);
  if (running !== undefined) return { url: urlFor(running), release: () => Promise.resolve() };

  const wanted = Number(env.DEV_DB_PORT ?? DEFAULT_PORT);
  const port = (await isFree(wanted)) ? wanted : await freePort();
  if (port !== wanted)
    log(`Port ${wanted} is in use by something else: the development database takes ${port}.`);
  log(`Starting embedded PostgreSQL (${dataDir}, port ${port})…`);
  const server = await startEmbeddedPostgres({ dataDir, port, persistent: true });
  await server.createDatabase(DEV_DATABASE);
  return { url: server.url(DEV_DATABASE), release: () => server.stop() };
}
