import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const AUTH = { COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123', COGNITO_CLIENT_ID: 'client-a' };
const MINIMAL = { DATABASE_URL: 'postgres://runway:secret@db.internal:5432/runway', ...AUTH };

function issuesOf(env: Record<string, string>) {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError)
      return Object.fromEntries(error.issues.map((i) => [i.variable, i.problem]));
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it.each(['UTC', 'GMT', 'Etc/UTC', 'PST8PDT', 'Europe/Kyiv'])('takes the time zone %s', (name) => {
    expect(loadConfig({ ...MINIMAL, ANALYTICS_TIMEZONE: name }).analytics.timeZone).toBe(name);
  });

  it.each([
    ['IST', 'Asia/Calcutta'],
    ['CET', 'Europe/Brussels'],
    ['BST', 'Asia/Dhaka'],
  ])('refuses %s, which Node reads as %s and PostgreSQL as a fixed offset', (name, zone) => {
    expect(issuesOf({ ...MINIMAL, ANALYTICS_TIMEZONE: name }).ANALYTICS_TIMEZONE).toContain(
      `${name} is read as ${zone}`,
    );
  });

  it('applies the documented defaults', () => {
    const config = loadConfig(MINIMAL);
    expect(config).toMatchObject({
      env: 'development',
      logLevel: 'info',
      http: {
        host: '0.0.0.0',
        port: 3000,
        bodyLimitBytes: 1_048_576,
        keepAliveTimeoutMs: 65_000,
        requestTimeoutMs: 60_000,
        corsOrigins: [],
        shutdownTimeoutMs: 25_000,
        apiDocsEnabled: true,
      },
      database: {
        url: MINIMAL.DATABASE_URL,
        ssl: false,
        poolMax: 10,
        connectTimeoutMs: 5_000,
        statementTimeoutMs: 15_000,
        idleInTransactionTimeoutMs: 30_000,
        idleSleepSeconds: 0,
        migrateOnStart: false,
      },
      analytics: { timeZone: 'UTC', retentionDays: 400, maxEventNames: 1_000 },
      telemetry: {
        serviceName: 'runway',
        deploymentEnvironment: 'development',
        tracesEnabled: false,
        metricsEnabled: false,
        xrayTraceIds: true,
      },
    });
  });

  it('exports telemetry only where it has somewhere to go', () => {
    const endpoint = { ...MINIMAL, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318' };
    expect(loadConfig(endpoint).telemetry).toMatchObject({ tracesEnabled: true, metricsEnabled: true });
    expect(loadConfig({ ...endpoint, OTEL_METRICS_EXPORTER: 'none' }).telemetry).toMatchObject({
      tracesEnabled: true,
      metricsEnabled: false,
    });
    expect(loadConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).telemetry).toMatchObject({
      tracesEnabled: false,
      metricsEnabled: false,
    });
    expect(loadConfig({ ...MINIMAL, OTEL_TRACES_EXPORTER: 'console' }).telemetry).toMatchObject({
      tracesEnabled: true,
      metricsEnabled: false,
    });
  });

  it('names bad telemetry variables', () => {
    const issues = issuesOf({
      ...MINIMAL,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '1.5',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'udp',
    });
    expect(Object.keys(issues).sort()).toEqual([
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
    ]);
    expect(issues.OTEL_EXPORTER_OTLP_ENDPOINT).toContain('http(s) URL');
    expect(issues.OTEL_TRACES_SAMPLER_ARG).toBe('must be a ratio between 0 and 1');
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig(MINIMAL);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(Object.isFrozen(config.http.corsOrigins)).toBe(true);
  });

  it('parses numbers, booleans and lists', () => {
    const config = loadConfig({
      ...MINIMAL,
      PORT: '8080',
      MIGRATE_ON_START: 'true',
      API_DOCS_ENABLED: 'false',
      CORS_ORIGINS: 'https://app.example.com/, http://localhost:5173',
    });
    expect(config.http.port).toBe(8080);
    expect(config.database.migrateOnStart).toBe(true);
    expect(config.http.apiDocsEnabled).toBe(false);
    expect(config.http.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ ...MINIMAL, PORT: '', LOG_LEVEL: ' ' }).http.port).toBe(3000);
  });

  it('names every bad variable in one error, without echoing values', () => {
    const env = {
      ...AUTH,
      DATABASE_URL: 'mysql://user:topsecret@host/db',
      PORT: 'abc',
      NODE_ENV: 'staging',
      LOG_LEVEL: 'loud',
      DB_POOL_MAX: '1',
      DB_SSL_MODE: 'maybe',
      MIGRATE_ON_START: 'perhaps',
      HTTP_BODY_LIMIT_BYTES: '1.5',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '5000',
      CORS_ORIGINS: 'not a url',
      SHUTDOWN_TIMEOUT_MS: '-1',
    };
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    for (const variable of Object.keys(env).filter((name) => !(name in AUTH))) {
      expect(message).toContain(`${variable}:`);
    }
    expect(message).not.toContain('topsecret');
    expect(message).toMatch(/^Invalid configuration \(11 problems\)/);
  });

  it.each([
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: '3000.5' }, 'PORT'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'http://host/db' }, 'DATABASE_URL'],
    [{ DB_STATEMENT_TIMEOUT_MS: 'soon' }, 'DB_STATEMENT_TIMEOUT_MS'],
    [{ DB_STATEMENT_TIMEOUT_MS: '2147483000' }, 'DB_STATEMENT_TIMEOUT_MS'], // past Node's timers (2^31 ms)
    [{ DB_CONNECT_TIMEOUT_MS: '3000000000' }, 'DB_CONNECT_TIMEOUT_MS'],
    [{ DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '2147483648' }, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS'],
    [{ DB_SSL_CA_FILE: '/nonexistent/ca.pem', DB_SSL_MODE: 'verify-full' }, 'DB_SSL_CA_FILE'],
    [{ ANALYTICS_TIMEZONE: 'Mars/Olympus_Mons' }, 'ANALYTICS_TIMEZONE'],
    [{ ANALYTICS_TIMEZONE: '+02:00' }, 'ANALYTICS_TIMEZONE'],
    [{ ANALYTICS_TIMEZONE: "UTC'; DROP TABLE users; --" }, 'ANALYTICS_TIMEZONE'],
    [{ ANALYTICS_RETENTION_DAYS: '7' }, 'ANALYTICS_RETENTION_DAYS'],
  ])('rejects %o', (overrides, variable) => {
    expect(issuesOf({ ...MINIMAL, ...overrides })).toHaveProperty(variable);
  });

  describe('database location', () => {
    const secret = {
      username: 'app',
      password: 'p@ss:/word',
      host: 'cluster.internal',
      port: 5432,
      dbname: 'runway',
    };

    it('builds the URL from DB_SECRET (the JSON Copilot injects) when DATABASE_URL is absent', () => {
      const config = loadConfig({ ...AUTH, DB_SECRET: JSON.stringify({ ...secret, engine: 'postgres' }) });
      const url = new URL(config.database.url);
      expect(decodeURIComponent(url.password)).toBe('p@ss:/word');
      expect(url.hostname).toBe('cluster.internal');
      expect(url.pathname).toBe('/runway');
    });

    it('accepts the port as a string and defaults it to 5432', () => {
      const { port: _port, ...withoutPort } = secret;
      expect(new URL(loadConfig({ ...AUTH, DB_SECRET: JSON.stringify(withoutPort) }).database.url).port).toBe(
        '5432',
      );
      expect(
        new URL(loadConfig({ ...AUTH, DB_SECRET: JSON.stringify({ ...secret, port: '6543' }) }).database.url)
          .port,
      ).toBe('6543');
    });

    it('prefers DATABASE_URL over DB_SECRET', () => {
      expect(loadConfig({ ...MINIMAL, DB_SECRET: 'ignored' }).database.url).toBe(MINIMAL.DATABASE_URL);
    });

    it('requires one of them', () => {
      expect(issuesOf({})).toHaveProperty('DB_SECRET', expect.stringContaining('DATABASE_URL'));
    });

    it.each([
      ['{not json'],
      [JSON.stringify({ ...secret, host: '' })],
      [JSON.stringify({ ...secret, port: 'x' })],
    ])('rejects a malformed DB_SECRET (%#)', (value) => {
      expect(issuesOf({ ...AUTH, DB_SECRET: value })).toHaveProperty('DB_SECRET');
    });
  });

  describe('production rules', () => {
    it('requires the task secrets and an https public URL', () => {
      const issues = issuesOf({ ...MINIMAL, NODE_ENV: 'production', DB_SSL_MODE: 'require' });
      expect(Object.keys(issues).sort()).toEqual(['PUBLIC_BASE_URL', 'TASK_LINK_SECRET', 'TASK_TOKEN_KEY']);
      expect(issuesOf({ ...MINIMAL, TASK_LINK_SECRET: 'short' })).toHaveProperty('TASK_LINK_SECRET');
    });

    it('requires TLS to the database', () => {
      expect(issuesOf({ ...MINIMAL, NODE_ENV: 'production' })).toHaveProperty(
        'DB_SSL_MODE',
        expect.stringContaining('production'),
      );
    });

    it('verifies the server certificate with verify-full, encrypts only with require', () => {
      const production = {
        ...MINIMAL,
        NODE_ENV: 'production',
        TASK_LINK_SECRET: 'l'.repeat(32),
        TASK_TOKEN_KEY: 't'.repeat(32),
        PUBLIC_BASE_URL: 'https://api.example.com',
      };
      expect(loadConfig({ ...production, DB_SSL_MODE: 'require' }).database.ssl).toEqual({
        rejectUnauthorized: false,
      });
      expect(loadConfig({ ...production, DB_SSL_MODE: 'verify-full' }).database.ssl).toEqual({
        rejectUnauthorized: true,
      });
    });
  });
});
