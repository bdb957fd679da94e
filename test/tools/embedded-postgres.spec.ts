import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  isAlive,
  reachableDataDir,
  runningPort,
  startEmbeddedPostgres,
  stopRunning,
} from '../../tools/dev/embedded-postgres.js';
import { freePort } from '../../tools/dev/ports.js';

describe('the embedded server of a data directory', () => {
  it('takes a postmaster.pid whose pid another process now has for stale: removed, that process left alone', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'runway-stale-'));
    // As after a reboot: the pid the file names is alive, but it is not PostgreSQL, and nothing answers on the port.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    try {
      await once(other, 'spawn');
      const lockFile = join(dataDir, 'postmaster.pid');
      await writeFile(
        lockFile,
        [other.pid, dataDir, 1796000000, await freePort(), '/tmp', '127.0.0.1', ''].join('\n'),
      );
      await stopRunning(dataDir);
      expect(isAlive(other.pid!)).toBe(true);
      expect(existsSync(lockFile)).toBe(false);
      expect(await runningPort(dataDir)).toBeUndefined();
    } finally {
      other.kill();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("takes a postmaster.pid naming another data directory's PostgreSQL for stale: that server left running", async () => {
    const [other, dataDir] = [
      await mkdtemp(join(tmpdir(), 'runway-other-')),
      await mkdtemp(join(tmpdir(), 'runway-stale-')),
    ];
    const server = await startEmbeddedPostgres({ dataDir: join(other, 'data'), persistent: false });
    try {
      const lockFile = join(dataDir, 'postmaster.pid');
      await writeFile(
        lockFile,
        [server.pid, dataDir, 1796000000, server.port, '/tmp', '127.0.0.1', ''].join('\n'),
      );
      expect(await runningPort(dataDir)).toBeUndefined();
      await stopRunning(dataDir);
      expect(isAlive(server.pid)).toBe(true);
      expect(existsSync(lockFile)).toBe(false);
    } finally {
      await server.stop();
      await rm(other, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('says what to do with data of another PostgreSQL major, which the server cannot open', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'runway-older-'));
    // As `npm run dev` picks it: a folder the server's user reaches (as root, where a mkdtemp folder is not one).
    const dataDir = reachableDataDir(join(folder, 'data'));
    try {
      await (await startEmbeddedPostgres({ dataDir, persistent: true })).stop();
      await writeFile(join(dataDir, 'PG_VERSION'), '16\n');
      await expect(startEmbeddedPostgres({ dataDir, persistent: true })).rejects.toThrow(
        /is of PostgreSQL 16 .*npm run db:reset/,
      );
    } finally {
      await rm(folder, { recursive: true, force: true });
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  // As root the server runs as the postgres user, which must reach the folders and files made for it.
  it.runIf(process.getuid?.() === 0)(
    'starts as root under a umask of 027, for a scratch folder in a place the postgres user cannot reach',
    async () => {
      const closed = await mkdtemp(join(tmpdir(), 'runway-closed-'));
      const umask = process.umask(0o027);
      let server: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
      try {
        server = await startEmbeddedPostgres({
          dataDir: await mkdtemp(join(closed, 'runway-db-')),
          persistent: false,
        });
        const client = new pg.Client({ connectionString: server.url('postgres') });
        await client.connect();
        await expect(client.query('SELECT 1 AS one').then(({ rows }) => rows)).resolves.toEqual([{ one: 1 }]);
        await client.end();
      } finally {
        process.umask(umask);
        await server?.stop();
        await rm(closed, { recursive: true, force: true });
      }
    },
  );
});
