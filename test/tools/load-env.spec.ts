import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

describe('the .env the npm scripts read', () => {
  const checkout = mkdtempSync(join(tmpdir(), 'runway-env-'));
  afterAll(() => rmSync(checkout, { recursive: true, force: true }));

  it('applies under the variables already set, and to those set empty (which count as unset)', () => {
    writeFileSync(join(checkout, '.env'), 'LOG_LEVEL=debug\nPORT=4000\nOTEL_SERVICE_NAME="from file"\n');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        join(ROOT, 'dist', 'tools', 'load-env.js'),
        '-p',
        'JSON.stringify([process.env.LOG_LEVEL, process.env.PORT, process.env.OTEL_SERVICE_NAME])',
      ],
      { cwd: checkout, encoding: 'utf8', env: { PATH: process.env.PATH, LOG_LEVEL: '', PORT: '5000' } },
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(['debug', '5000', 'from file']);
  });
});
