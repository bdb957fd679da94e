import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

const token = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'dist', 'tools', 'dev', 'token.js'), ...args], {
    encoding: 'utf8',
  });

describe('npm run token', () => {
  it('prints its usage when asked, and a mistake with the usage (exit 2) instead of minting a token that fails', () => {
    expect(token('--help')).toMatchObject({
      status: 0,
      stdout: expect.stringMatching(/^usage: npm run token/),
    });
    for (const [args, reason] of [
      [['--expires-in', 'abc'], '--expires-in must be a whole number of seconds, not "abc"'],
      [['--expires-in=-5'], '--expires-in must be a whole number of seconds, not "-5"'],
      [['alice'], "Unexpected argument 'alice'"],
      [['--groups', 'admin'], '--email and --groups belong to a user: give --username too'],
      [['--email', 'a@example.com'], '--email and --groups belong to a user: give --username too'],
    ] as const) {
      const run = token(...args);
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`token: ${reason}`);
      expect(run.stderr).toContain('usage: npm run token');
    }
  });

  it('names one user whatever the case of the username, as the sign-in page does', () => {
    const claims = (username: string) =>
      JSON.parse(
        Buffer.from(token('--username', username).stdout.split('.')[1]!, 'base64url').toString(),
      ) as {
        sub: string;
        username: string;
      };
    expect(claims('Alice')).toMatchObject({ sub: claims('alice').sub, username: 'alice' });
  });
});
