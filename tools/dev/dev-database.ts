import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../root.js';
import {
  isAlive,
  reachableDataDir,
  runningPort,
  startEmbeddedPostgres,
  stopRunning,
  type EmbeddedServer,
} from './embedded-postgres.js';
import { freePort, isFree, portNumber } from './ports.js';

/** This checkout's development database (`.data/postgres`, or its staged place when run as root; see there). */
export const DEV_DATA_DIR = reachableDataDir(join(ROOT, '.data', 'postgres'));
const DEFAULT_PORT = 54329;
const DEV_DATABASE = 'runway';

export interface DevDatabase {
  url: string;
  /** Stops the embedded server, unless another process of this checkout (`npm run dev`, `db:*`) still uses it. */
  release(): Promise<void>;
}

const urlFor = (port: number) => `postgres://postgres:postgres@127.0.0.1:${port}/${DEV_DATABASE}`;

/**
 * DATABASE_URL when set; otherwise this checkout's embedded server, shared with whoever runs it already (another
 * `npm run dev`, say), else started on DEV_DB_PORT — or on a free port when something else holds that one. The last
 * process to release it stops it, whichever started it.
 */
export async function devDatabase(
  log: (line: string) => void = () => undefined,
  { dataDir = DEV_DATA_DIR, env = process.env } = {},
): Promise<DevDatabase> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, release: () => Promise.resolve() };
  const wanted = portOf(env.DEV_DB_PORT);
  const users = usersOf(dataDir);
  users.join();
  const running = await runningPort(dataDir);
  if (running !== undefined) return { url: urlFor(running), release: () => users.leave(undefined, log) };

  const port = (await isFree(wanted)) ? wanted : await freePort();
  if (port !== wanted)
    log(`Port ${wanted} is in use by something else: the development database takes ${port}.`);
  log(`Starting embedded PostgreSQL (${dataDir}, port ${port})…`);
  const server = await startEmbeddedPostgres({ dataDir, port, persistent: true });
  await server.createDatabase(DEV_DATABASE);
  return { url: server.url(DEV_DATABASE), release: () => users.leave(server, log) };
}

let registrations = 0;

/** Who uses the server on `dataDir`: a file each, named by its process id (`<pid>.<n>`), in a folder beside it. */
function usersOf(dataDir: string) {
  const folder = `${dataDir}-users`;
  const mine = join(folder, `${process.pid}.${++registrations}`);
  return {
    join() {
      mkdirSync(folder, { recursive: true });
      writeFileSync(mine, '');
    },
    /** Stops the server when no other live process uses it (one that died without leaving counts no more). */
    async leave(started: EmbeddedServer | undefined, log: (line: string) => void) {
      rmSync(mine, { force: true });
      const others = readdirSync(folder).filter((name) => {
        const alive = isAlive(Number.parseInt(name, 10));
        if (!alive) rmSync(join(folder, name), { force: true });
        return alive;
      });
      if (others.length > 0) {
        started?.leaveRunning();
        log(
          `The development database keeps running for the other processes using it (${others.join(', ')}).`,
        );
      } else if (started) {
        await started.stop();
      } else {
        await stopRunning(dataDir);
      }
    },
  };
}

/** DEV_DB_PORT, empty counting as unset, as with every variable. */
function portOf(value: string | undefined): number {
  return value?.trim() ? portNumber('DEV_DB_PORT', value) : DEFAULT_PORT;
}
