import { execFile, spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devDatabase } from '../../tools/dev/dev-database.js';
import { reachableDataDir, runningPort } from '../../tools/dev/embedded-postgres.js';
import { freePort } from '../../tools/dev/ports.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { ROOT, startProcess } from '../support/process.js';
import { authEnv } from '../support/tokens.js';
import { until } from '../support/until.js';

const run = promisify(execFile);

/** A copy of the sources with the installed node_modules, where a test may edit files and build. */
function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runway-scratch-'));
  for (const entry of [
    'src',
    'migrations',
    'tools',
    'bench',
    'web',
    '.swcrc',
    'package.json',
    'tsconfig.json',
  ]) {
    cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

// Builds, npm and cold starts of the app: minutes on a busy machine.
describe('the first hour', { timeout: 300_000 }, () => {
  const scratches: string[] = [];
  afterAll(() => scratches.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  describe('a SIGTERM during migrations', () => {
    let db: TestDatabase;
    let holder: pg.Client;
    beforeAll(async () => {
      db = await createTestDatabase({ empty: true });
      holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
    });
    afterAll(async () => {
      await holder?.end();
      await db?.drop();
    });

    it('stops after the migration under way, applies nothing more, and says so in one line', async () => {
      // Another instance holds the migration lock: this one waits to migrate.
      await holder.query('SELECT pg_advisory_lock(7311042977)');
      const server = await startProcess({
        NODE_ENV: 'test',
        ...authEnv(),
        DATABASE_URL: db.url,
        MIGRATE_ON_START: 'true',
      });
      // Its migrator tries the lock again and again: its session's last statement says it got that far (in this
      // database: other tests' processes take advisory locks in theirs).
      const waitingForTheLock = async () =>
        (
          await holder.query(
            "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_try_advisory_lock%' AND pid <> pg_backend_pid()",
          )
        ).rowCount === 1;
      expect(await until(waitingForTheLock)).toBe(true);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(1);
      expect(server.stderr()).toMatch(
        /^Runway did not start: SIGTERM received during start-up; stopped while migrating: nothing applied/m,
      );
      expect(server.stderr()).not.toMatch(/^\s+at /m);
      const tables = await holder.query("SELECT 1 FROM pg_tables WHERE tablename = 'users'");
      expect(tables.rowCount).toBe(0);
    });
  });

  it('npm start reads .env, and variables already in the environment win', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'runway-env-'));
    scratches.push(dir);
    for (const entry of ['dist', 'node_modules', 'package.json'])
      symlinkSync(join(ROOT, entry), join(dir, entry));
    const [fromFile, fromEnvironment] = [await freePort(), await freePort()];
    const env = {
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      ...authEnv(),
      PORT: String(fromFile),
    };
    writeFileSync(
      join(dir, '.env'),
      Object.entries(env)
        .map(([name, value]) => `${name}=${value}`)
        .join('\n'),
    );
    const child = spawn('npm', ['run', '-s', 'start'], {
      cwd: dir,
      env: { PATH: process.env.PATH, PORT: String(fromEnvironment), LOG_LEVEL: 'silent' },
      stdio: 'ignore',
      detached: true, // its own process group: npm does not pass a signal on to the script
    });
    try {
      const live = () =>
        fetch(`http://127.0.0.1:${fromEnvironment}/health/live`).then(
          (r) => r.status === 200,
          () => false,
        );
      expect(await until(live)).toBe(true);
    } finally {
      process.kill(-child.pid!, 'SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      await db.drop();
    }
  });

  it('the scripts build first when a source is newer than what dist/ compiled from it', async () => {
    const dir = scratchCopy();
    scratches.push(dir);
    const built = join(dir, 'dist', 'src', 'main.js');
    const buildIfStale = () =>
      run(process.execPath, [join(dir, 'tools', 'build-if-stale.mjs')], { cwd: dir });
    await buildIfStale();
    const first = statSync(built).mtimeMs;
    await buildIfStale();
    expect(statSync(built).mtimeMs).toBe(first);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, 'src', 'utils', 'version.ts'), later, later);
    await buildIfStale();
    const rebuilt = statSync(built).mtimeMs;
    expect(rebuilt).toBeGreaterThan(first);

    // As under `npm run dev`, whose compiler writes only the file that changed: nothing is stale.
    const edited = new Date(Date.now() + 120_000);
    const recompiled = new Date(Date.now() + 121_000);
    utimesSync(join(dir, 'src', 'utils', 'version.ts'), edited, edited);
    utimesSync(join(dir, 'dist', 'src', 'utils', 'version.js'), recompiled, recompiled);
    await buildIfStale();
    expect(statSync(built).mtimeMs).toBe(rebuilt);

    // A source deleted (a migration to be generated again): its compiled file must not outlive it.
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'src', 'utils', 'version.ts'), past, past);
    const source = join(dir, 'src', 'utils', 'gone.ts');
    writeFileSync(source, 'export const gone = 1;\n');
    await buildIfStale();
    rmSync(source);
    await buildIfStale();
    expect(existsSync(join(dir, 'dist', 'src', 'utils', 'gone.js'))).toBe(false);
  });

  const reach = async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.end();
  };

  it('the dev database takes a free port when its own is held by something else, and is found again', async () => {
    const squatter = createServer();
    const taken = await freePort();
    await new Promise<void>((resolve) => squatter.listen(taken, '127.0.0.1', resolve));
    const dataDir = reachableDataDir(join(mkdtempSync(join(tmpdir(), 'runway-devdb-')), 'postgres'));
    scratches.push(dataDir);
    const lines: string[] = [];
    const env = { DEV_DB_PORT: String(taken) };
    const first = await devDatabase((line) => lines.push(line), { dataDir, env });
    let releaseFirst: (() => Promise<void>) | undefined = () => first.release();
    try {
      expect(new URL(first.url).port).not.toBe(String(taken));
      expect(lines).toContain(
        `Port ${taken} is in use by something else: the development database takes ${new URL(first.url).port}.`,
      );
      // A second `npm run dev` of the same checkout shares the running server; the last one out stops it.
      const second = await devDatabase(() => undefined, { dataDir, env });
      expect(second.url).toBe(first.url);
      await second.release();
      await reach(first.url);
      const third = await devDatabase(() => undefined, { dataDir, env });
      await releaseFirst();
      releaseFirst = undefined;
      expect(lines.at(-1)).toMatch(
        /^The development database keeps running for the other processes using it/,
      );
      await reach(third.url);
      await third.release();
      expect(await runningPort(dataDir)).toBeUndefined();
    } finally {
      await releaseFirst?.();
      squatter.close();
    }
  });

  it('npm run dev restarts the API when a source changes, shares the database, and the last one out stops it', async () => {
    const dir = scratchCopy();
    scratches.push(dir);
    await run('npm', ['run', '-s', 'build'], { cwd: dir });
    const databasePort = String(await freePort());
    let output = '';
    const startDev = (port: number) => {
      const dev = spawn(process.execPath, [join(dir, 'dist', 'tools', 'dev', 'dev.js')], {
        cwd: dir,
        env: { PATH: process.env.PATH, PORT: String(port), DEV_DB_PORT: databasePort, LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // a process group, as a terminal gives it
      });
      for (const stream of [dev.stdout, dev.stderr])
        stream.on('data', (chunk: Buffer) => (output += chunk.toString()));
      return dev;
    };
    const exitOf = (child: ChildProcess) => new Promise((resolve) => child.once('exit', resolve));
    const port = await freePort();
    const dev = startDev(port);
    let second: ChildProcess | undefined;
    const title = (at = port) =>
      fetch(`http://127.0.0.1:${at}/openapi.json`)
        .then((response) => response.json() as Promise<{ info: { title: string } }>)
        .then(
          ({ info }) => info.title,
          () => undefined,
        );
    const titled = async (expected: string) =>
      (await until(async () => (await title()) === expected)) ? expected : title();
    const dataDir = reachableDataDir(join(dir, '.data', 'postgres'));
    scratches.push(dataDir);
    const postmaster = () => readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
    try {
      expect(await titled('Runway API')).toBe('Runway API');
      const database = postmaster();
      const openapi = join(dir, 'src', 'http', 'openapi.ts');
      writeFileSync(
        openapi,
        readFileSync(openapi, 'utf8').replace("setTitle('Runway API')", "setTitle('Runway API, edited')"),
      );
      expect(await titled('Runway API, edited')).toBe('Runway API, edited');
      expect(postmaster()).toBe(database);

      // A full build meanwhile (npm test runs one) leaves the restarts working, and removes what has no source.
      const orphan = join(dir, 'dist', 'src', 'deleted-feature.js');
      writeFileSync(orphan, '');
      await run('npm', ['run', '-s', 'build'], { cwd: dir });
      expect(existsSync(orphan)).toBe(false);
      writeFileSync(
        openapi,
        readFileSync(openapi, 'utf8').replace(
          "setTitle('Runway API, edited')",
          "setTitle('Runway API, again')",
        ),
      );
      expect(await titled('Runway API, again')).toBe('Runway API, again');

      // A second `npm run dev` of the checkout shares the database: closing the first one's terminal (SIGHUP to its
      // group) stops its API as Ctrl-C would, and leaves the database running for the second.
      const restarts = () => output.split('Gracefully restarted').length;
      const restartedBefore = restarts();
      const secondPort = await freePort();
      second = startDev(secondPort);
      expect(await until(async () => (await title(secondPort)) === 'Runway API, again')).toBe(true);
      // The second one's compiler rewrote dist/ as it started: the first one's API restarted once more.
      expect(await until(() => restarts() > restartedBefore)).toBe(true);
      expect(await titled('Runway API, again')).toBe('Runway API, again');
      const hungUp = exitOf(dev);
      process.kill(-dev.pid!, 'SIGHUP');
      expect(await hungUp).toBe(0); // the API drained, as on Ctrl-C
      expect(postmaster()).toBe(database);
      expect(await title(secondPort)).toBe('Runway API, again');

      // Ctrl-C reaches the whole group: the API drains while the database still runs; the last one out stops it.
      const exited = exitOf(second);
      process.kill(-second.pid!, 'SIGINT');
      expect(await exited).toBe(0);
      expect(output).not.toMatch(/administrator command|shutting down|ECONNREFUSED/);
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
    } finally {
      for (const child of [dev, second]) {
        if (child && child.exitCode === null && child.signalCode === null) {
          const exited = exitOf(child);
          process.kill(-child.pid!, 'SIGTERM');
          await exited;
        }
      }
    }
  });
});
