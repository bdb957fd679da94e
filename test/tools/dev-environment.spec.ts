import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { apiEnvironment } from '../../tools/dev/dev-environment.js';
import { portNumber } from '../../tools/dev/ports.js';
import { ToolError } from '../../tools/dev/run-tool.js';
import { ROOT } from '../support/process.js';

describe('npm run dev', () => {
  const dev = {
    port: 3000,
    issuer: { url: 'http://localhost:9230', jwksUrl: 'http://localhost:9230/.well-known/jwks.json' },
    databaseUrl: 'postgres://runway@127.0.0.1:54329/runway',
  };

  it("gives the API its defaults under the caller's variables; one set empty takes none away", () => {
    const env = apiEnvironment(dev, {
      COGNITO_DOMAIN: '',
      MIGRATE_ON_START: ' ',
      TASKS_NOTIFY_EMAILS: '',
      LOG_LEVEL: 'debug',
      PORT: '9999',
    });
    const config = loadConfig(env);
    expect(config.auth.webSignIn).not.toBeNull();
    expect(config.database.migrateOnStart).toBe(true);
    expect(config.tasks.notifyEmails).toEqual(['operator@example.com']);
    expect(config.logLevel).toBe('debug');
    expect(config.http.port).toBe(3000);
    expect(config.http.host).toBe('127.0.0.1');
    expect(loadConfig(apiEnvironment(dev, { HOST: '0.0.0.0' })).http.host).toBe('0.0.0.0');
  });

  it('refuses a PORT or DEV_DB_PORT that is no port, saying which', () => {
    expect(portNumber('PORT', ' 8080 ')).toBe(8080);
    for (const value of ['0', 'abc', '70000', '80.5']) {
      expect(() => portNumber('PORT', value)).toThrow(ToolError);
      expect(() => portNumber('PORT', value)).toThrow(`PORT must be a port number from 1 to 65535`);
    }
  });

  it('prints a configuration mistake as its message, not a stack', () => {
    const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'tools', 'analytics', 'seed-events.js')], {
      encoding: 'utf8',
      env: { ...process.env, ANALYTICS_TIMEZONE: 'Not/AZone' },
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /^seed:events: Invalid configuration \(1 problem\):\n {2}- ANALYTICS_TIMEZONE: /,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });
});
