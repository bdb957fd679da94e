import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../tools/dev/embedded-postgres.js';
import { ROOT } from '../support/process.js';
import { until } from '../support/until.js';

/** The process id of `parent`'s child named `name`, if it has one. */
function childNamed(parent: number, name: string): number | undefined {
  try {
    return Number(
      execFileSync('pgrep', ['-P', String(parent), '-x', name], { encoding: 'utf8' }).split('\n')[0],
    );
  } catch {
    return undefined;
  }
}

describe('npm run db:check', () => {
  it('stops the throwaway PostgreSQL it started when interrupted (Ctrl-C)', async () => {
    const tool = spawn(process.execPath, [join(ROOT, 'dist', 'tools', 'dev', 'db.js'), 'check'], {
      detached: true,
      stdio: 'ignore',
    });
    let server: number | undefined;
    try {
      expect(await until(() => (server = childNamed(tool.pid!, 'postgres')) !== undefined)).toBe(true);
      process.kill(-tool.pid!, 'SIGINT'); // the terminal's Ctrl-C: the tool's group, not the server's
      await once(tool, 'exit');
      expect(await until(() => !isAlive(server!))).toBe(true);
    } finally {
      if (tool.exitCode === null) tool.kill('SIGKILL');
      if (server && isAlive(server)) process.kill(server, 'SIGKILL');
    }
  });
});
