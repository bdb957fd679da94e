import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devDatabase } from '../../tools/dev/dev-database.js';
import { isAlive } from '../../tools/dev/embedded-postgres.js';
import { migrationTimestamp } from '../../tools/dev/migration-timestamp.js';
import { ROOT } from '../support/process.js';
import { until } from '../support/until.js';

/** The process id of `parent`'s child named `name`, if it has one: from /proc on Linux, else from pgrep. */
function childNamed(parent: number, name: string): number | undefined {
  if (!existsSync('/proc/self/stat')) {
    const found = spawnSync('pgrep', ['-P', String(parent), '-x', name], { encoding: 'utf8' }).stdout;
    return found ? Number(found.split('\n')[0]) : undefined;
  }
  for (const entry of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    // pid (comm) state ppid …
    const stat = /^\d+ \((.*)\) \S+ (\d+)/.exec(readFileSafe(`/proc/${entry}/stat`));
    if (stat?.[1] === name && Number(stat[2]) === parent) return Number(entry);
  }
  return undefined;
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return ''; // the process has exited meanwhile
  }
}

describe('npm run db:generate', () => {
  it('names a new migration after every one there is, even with a clock behind them', () => {
    const files = ['1796300000000-AddTaskTokenDigest.ts', 'index.ts'];
    expect(migrationTimestamp(files, 1796279733205)).toBe(1796300000001);
    expect(migrationTimestamp(files, 1796400000000)).toBe(1796400000000);
  });
});

describe('npm run db:check', () => {
  it("checks on its throwaway server whatever TLS the caller's environment sets for its own database", () => {
    const check = spawnSync(process.execPath, [join(ROOT, 'dist', 'tools', 'dev', 'db.js'), 'check'], {
      encoding: 'utf8',
      env: { ...process.env, DB_SSL_MODE: 'require', DB_SSL_CA_FILE: join(ROOT, 'package.json') },
    });
    expect(check.stderr + check.stdout).toContain('entities and migrations agree');
    expect(check.status).toBe(0);
  });

  it('stops the throwaway PostgreSQL it started when interrupted (Ctrl-C)', async () => {
    const tool = spawn(process.execPath, [join(ROOT, 'dist', 'tools', 'dev', 'db.js'), 'check'], {
      detached: true,
      stdio: 'ignore',
    });
    let server: number | undefined;
    try {
      expect(await until(() => (server = childNamed(tool.pid!, 'postgres')) !== undefined)).toBe(true);
      // postgres -D <its scratch folder> …
      const dataDir = readFileSafe(`/proc/${server}/cmdline`).split('\0')[2];
      expect(dataDir && existsSync(dataDir)).toBeTruthy();
      process.kill(-tool.pid!, 'SIGINT'); // the terminal's Ctrl-C: the tool's group, not the server's
      await once(tool, 'exit');
      expect(await until(() => !isAlive(server!))).toBe(true);
      expect(await until(() => !existsSync(dataDir!))).toBe(true);
    } finally {
      if (tool.exitCode === null) tool.kill('SIGKILL');
      if (server && isAlive(server)) process.kill(server, 'SIGKILL');
    }
  });
});

describe('npm run db:migrate', () => {
  it('refuses a bad database setting before starting the embedded PostgreSQL', () => {
    const migrate = spawnSync(process.execPath, [join(ROOT, 'dist', 'tools', 'dev', 'db.js'), 'migrate'], {
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: '', DB_POOL_MAX: 'ten' },
    });
    expect(migrate.stderr + migrate.stdout).toContain('DB_POOL_MAX');
    expect(migrate.stdout).not.toContain('Starting embedded PostgreSQL');
    expect(migrate.status).toBe(1);
  });
});

describe('the development database', () => {
  it('refuses a DEV_DB_PORT that is no port, before starting anything', async () => {
    for (const value of ['abc', '0', '70000', '54329x']) {
      await expect(
        devDatabase(undefined, { dataDir: '/nonexistent', env: { DEV_DB_PORT: value } }),
      ).rejects.toThrow(/DEV_DB_PORT must be a port number from 1 to 65535/);
    }
  });
});
