import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, VARIABLES } from './config.js';
import type { Variable } from './environment.js';

const MINIMAL = {
  DATABASE_URL: 'postgres://runway:secret@db.internal:5432/runway',
  COGNITO_USER_POOL_ID: 'eu-west-1_AbCdEf123',
  COGNITO_CLIENT_ID: 'client-a',
};

const PRODUCTION = {
  ...MINIMAL,
  NODE_ENV: 'production',
  TASK_LINK_SECRET: 'l'.repeat(32),
  TASK_TOKEN_KEY: 't'.repeat(32),
  PUBLIC_BASE_URL: 'https://api.example.com',
};

/** variable → problem, for a configuration that must be refused. */
const problems = (env: Record<string, string>): Record<string, string> => {
  const error = (() => {
    try {
      loadConfig(env);
    } catch (thrown) {
      return thrown;
    }
  })();
  expect(error).toBeInstanceOf(ConfigError);
  return Object.fromEntries(
    (error as ConfigError).issues.map(({ variable, problem }) => [variable, problem]),
  );
};

describe('every declared variable', () => {
  /** A valid value other than the default for each variable, with what it needs set beside it. */
  const SAMPLES: Record<Variable, { value: string; with?: Record<string, string> }> = {
    NODE_ENV: { value: 'test' },
    HOST: { value: '127.0.0.1' },
    PORT: { value: '8080' },
    LOG_LEVEL: { value: 'debug' },
    DATABASE_URL: { value: 'postgres://other@db.internal/runway' },
    DB_SECRET: {
      value: JSON.stringify({ username: 'u', password: 'p', host: 'h', dbname: 'd' }),
      with: {
        DATABASE_URL: '',
        DB_SECRET: JSON.stringify({ username: 'v', password: 'p', host: 'h', dbname: 'd' }),
      },
    },
    DB_SSL_MODE: { value: 'require' },
    DB_SSL_CA_FILE: { value: 'package.json', with: { DB_SSL_MODE: 'verify-full' } },
    DB_POOL_MAX: { value: '20' },
    DB_CONNECT_TIMEOUT_MS: { value: '1000' },
    DB_STATEMENT_TIMEOUT_MS: { value: '1000' },
    DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: { value: '1000' },
    DB_IDLE_SLEEP_SECONDS: { value: '300' },
    MIGRATE_ON_START: { value: 'true' },
    HTTP_BODY_LIMIT_BYTES: { value: '2048' },
    HTTP_KEEP_ALIVE_TIMEOUT_MS: { value: '70000' },
    HTTP_REQUEST_TIMEOUT_MS: { value: '5000' },
    CORS_ORIGINS: { value: 'https://app.example.com' },
    SHUTDOWN_TIMEOUT_MS: { value: '1000' },
    API_DOCS_ENABLED: { value: 'false' },
    TRUSTED_PROXY_HOPS: { value: '1' },
    RATE_LIMIT_READS_PER_MINUTE: { value: '10' },
    RATE_LIMIT_WRITES_PER_MINUTE: { value: '10' },
    RATE_LIMIT_EVENTS_PER_MINUTE: { value: '10' },
    ANALYTICS_TIMEZONE: { value: 'America/St_Johns' },
    ANALYTICS_RETENTION_DAYS: { value: '90' },
    ANALYTICS_MAX_EVENT_NAMES: { value: '50' },
    PUBLIC_BASE_URL: { value: 'https://api.example.com' },
    MAIL_TRANSPORT: { value: 'ses' },
    MAIL_FROM: { value: 'tasks@example.com' },
    MAIL_DIRECTORY: { value: '/tmp/mail' },
    TASKS_NOTIFY_EMAILS: { value: 'ops@example.com, founder@example.com' },
    TASK_LINK_SECRET: { value: 'x'.repeat(40) },
    TASK_TOKEN_KEY: { value: 'y'.repeat(40) },
    COGNITO_USER_POOL_ID: { value: 'us-east-1_Other' },
    COGNITO_CLIENT_ID: { value: 'client-b' },
    COGNITO_JWKS_URL: { value: 'https://keys.example.com/jwks.json' },
    COGNITO_ISSUER: { value: 'http://localhost:9229/local_pool' },
    COGNITO_DOMAIN: {
      value: 'auth.example.com',
      with: { COGNITO_DOMAIN: 'other.example.com', COGNITO_WEB_CLIENT_ID: 'client-a' },
    },
    COGNITO_WEB_CLIENT_ID: {
      value: 'client-b',
      with: {
        COGNITO_CLIENT_ID: 'client-a,client-b',
        COGNITO_DOMAIN: 'auth.example.com',
        COGNITO_WEB_CLIENT_ID: 'client-a',
      },
    },
    OTEL_SERVICE_NAME: { value: 'other' },
    DEPLOYMENT_ENVIRONMENT: { value: 'prod' },
    OTEL_EXPORTER_OTLP_ENDPOINT: { value: 'http://localhost:4318' },
    OTEL_EXPORTER_OTLP_PROTOCOL: { value: 'grpc' },
    OTEL_TRACES_EXPORTER: { value: 'console' },
    OTEL_METRICS_EXPORTER: { value: 'console' },
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: { value: 'delta' },
    OTEL_TRACES_SAMPLER: { value: 'always_off' },
    OTEL_TRACES_SAMPLER_ARG: { value: '0.5' },
    OTEL_SDK_DISABLED: { value: 'true', with: { OTEL_TRACES_EXPORTER: 'console' } },
    XRAY_TRACE_IDS: { value: 'false' },
  };

  it.each(VARIABLES)('%s is read: setting it changes the configuration', (variable) => {
    const { value, with: beside = {} } = SAMPLES[variable];
    const base = { ...MINIMAL, ...beside };
    expect(loadConfig({ ...base, [variable]: value })).not.toEqual(loadConfig(base));
  });
});

describe('Cognito', () => {
  it('derives the issuer and JWKS URL from the pool id', () => {
    expect(loadConfig({ ...MINIMAL, COGNITO_CLIENT_ID: 'a, b' }).auth).toEqual({
      userPoolId: 'eu-west-1_AbCdEf123',
      clientIds: ['a', 'b'],
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123',
      jwksUrl: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123/.well-known/jwks.json',
      customIssuer: false,
      webSignIn: null,
    });
  });

  it('takes the back office sign-in from a pool domain or a loopback issuer', () => {
    const signIn = (domain: string) =>
      loadConfig({ ...MINIMAL, COGNITO_DOMAIN: domain, COGNITO_WEB_CLIENT_ID: 'client-a' }).auth.webSignIn;
    expect(signIn('runway-prod.auth.us-east-1.amazoncognito.com')).toEqual({
      domain: 'https://runway-prod.auth.us-east-1.amazoncognito.com',
      clientId: 'client-a',
    });
    expect(signIn('http://127.0.0.1:4100/')).toEqual({
      domain: 'http://127.0.0.1:4100',
      clientId: 'client-a',
    });
  });

  it('accepts emulator overrides on loopback', () => {
    const auth = loadConfig({
      ...MINIMAL,
      COGNITO_JWKS_URL: 'http://127.0.0.1:9229/local_pool/.well-known/jwks.json',
      COGNITO_ISSUER: 'http://localhost:9229/local_pool',
    }).auth;
    expect(auth).toMatchObject({
      issuer: 'http://localhost:9229/local_pool',
      jwksUrl: 'http://127.0.0.1:9229/local_pool/.well-known/jwks.json',
      customIssuer: true,
    });
  });

  it.each([
    [{ COGNITO_USER_POOL_ID: undefined }, 'COGNITO_USER_POOL_ID'],
    [{ COGNITO_USER_POOL_ID: 'not-a-pool' }, 'COGNITO_USER_POOL_ID'],
    [{ COGNITO_CLIENT_ID: undefined }, 'COGNITO_CLIENT_ID'],
    [{ COGNITO_CLIENT_ID: 'bad client' }, 'COGNITO_CLIENT_ID'],
    [{ COGNITO_JWKS_URL: 'http://keys.example.com/jwks.json' }, 'COGNITO_JWKS_URL'],
    [{ COGNITO_ISSUER: 'http://issuer.example.com/pool' }, 'COGNITO_ISSUER'],
    [{ COGNITO_JWKS_URL: 'ftp://127.0.0.1/jwks.json' }, 'COGNITO_JWKS_URL'],
    [{ COGNITO_DOMAIN: 'http://auth.example.com', COGNITO_WEB_CLIENT_ID: 'client-a' }, 'COGNITO_DOMAIN'],
    [{ COGNITO_DOMAIN: 'auth.example.com' }, 'COGNITO_WEB_CLIENT_ID'],
    [
      { COGNITO_DOMAIN: 'https://auth.example.com/path', COGNITO_WEB_CLIENT_ID: 'client-a' },
      'COGNITO_DOMAIN',
    ],
    [{ COGNITO_WEB_CLIENT_ID: 'client-a' }, 'COGNITO_WEB_CLIENT_ID'],
    [{ COGNITO_DOMAIN: 'auth.example.com', COGNITO_WEB_CLIENT_ID: 'client-z' }, 'COGNITO_WEB_CLIENT_ID'],
    // The driver would apply these over DB_SSL_MODE and the DB_* timeouts.
    [{ DATABASE_URL: 'postgres://db.internal/runway?sslmode=disable' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://db.internal/runway?statement_timeout=0' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://db.internal/runway?options=-c%20search_path%3Dx' }, 'DATABASE_URL'],
  ])('rejects %o', (overrides, variable) => {
    const env = Object.fromEntries(
      Object.entries({ ...MINIMAL, ...overrides }).filter(([, value]) => value !== undefined),
    ) as Record<string, string>;
    expect(problems(env)).toHaveProperty(variable);
  });

  it('refuses the dev issuer and emulators in production', () => {
    const production = { ...PRODUCTION, DB_SSL_MODE: 'require' };
    expect(problems({ ...production, COGNITO_JWKS_URL: 'http://127.0.0.1:4000/jwks.json' })).toHaveProperty(
      'COGNITO_JWKS_URL',
    );
    expect(problems({ ...production, COGNITO_ISSUER: 'https://issuer.example.com' })).toHaveProperty(
      'COGNITO_ISSUER',
    );
    expect(
      problems({ ...production, COGNITO_DOMAIN: 'http://127.0.0.1:4100', COGNITO_WEB_CLIENT_ID: 'client-a' }),
    ).toHaveProperty('COGNITO_DOMAIN');
    expect(
      loadConfig({ ...production, COGNITO_JWKS_URL: 'https://keys.example.com/jwks.json' }).auth.jwksUrl,
    ).toBe('https://keys.example.com/jwks.json');
  });

  it('reads a URL whatever the case of its scheme', () => {
    const production = { ...PRODUCTION, DB_SSL_MODE: 'require' };
    expect(problems({ ...production, COGNITO_JWKS_URL: 'HTTP://127.0.0.1:4000/jwks.json' })).toHaveProperty(
      'COGNITO_JWKS_URL',
    );
    expect(
      problems({ ...production, COGNITO_DOMAIN: 'Http://127.0.0.1:4100', COGNITO_WEB_CLIENT_ID: 'client-a' }),
    ).toHaveProperty('COGNITO_DOMAIN');
    const config = loadConfig({
      ...production,
      PUBLIC_BASE_URL: 'HTTPS://api.example.com',
      COGNITO_JWKS_URL: 'HTTPS://keys.example.com/jwks.json',
    });
    expect(config.publicBaseUrl).toBe('https://api.example.com');
    expect(config.auth.jwksUrl).toBe('https://keys.example.com/jwks.json');
  });

  it.each(['0x10', '1e3', '0b11', '0o7', '12abc', 'Infinity'])(
    'takes integers in decimal digits only: %s',
    (port) => {
      expect(problems({ ...MINIMAL, PORT: port })).toHaveProperty('PORT');
    },
  );
});
