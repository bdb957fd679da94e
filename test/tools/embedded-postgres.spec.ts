import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, runningPort, stopRunning } from '../../tools/dev/embedded-postgres.js';
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
});
