/**
 * Every environment variable Runway reads, with its type, range and default — the one place a variable is declared
 * — and the rules that relate several of them. docs/configuration.md and .env.example document each variable, and a
 * test checks that every one of them changes the configuration.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  baseUrl,
  choice,
  flag,
  host,
  integer,
  list,
  localOrHttps,
  required,
  timeZone,
  url,
} from './values.js';

/** DB_SECRET: the JSON secret of Copilot's Aurora addon, {username,password,host,port,dbname,...}. */
export const databaseSecret = z
  .string()
  .transform((text, context) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      context.addIssue('is not JSON');
      return z.NEVER;
    }
  })
  .pipe(
    z.object({
      username: z.string().min(1),
      password: z.string().min(1),
      host: z.string().min(1),
      port: z.coerce.number().int().min(1).max(65535).default(5432),
      dbname: z.string().min(1),
    }),
  );

const readableFile = z.string().transform((path, context) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    context.addIssue('cannot be read');
    return z.NEVER;
  }
});

/** A key or secret: long enough to resist guessing. */
const secretText = () => z.string().min(32, 'must be at least 32 characters');

/** Query parameters of a connection URL that the driver would apply over the DB_* settings. */
const OVERRIDING_PARAMETER = /^ssl|^options$|timeout/i;

export const ENVIRONMENT = {
  NODE_ENV: choice(['development', 'test', 'production']).default('development'),
  HOST: host().default('0.0.0.0'),
  PORT: integer(0, 65535).default(3000),
  LOG_LEVEL: choice(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: url('postgres|postgresql', 'must be a postgres:// or postgresql:// URL')
    .refine(
      (value) =>
        !URL.canParse(value) ||
        ![...new URL(value).searchParams.keys()].some((key) => OVERRIDING_PARAMETER.test(key)),
      'must not set TLS, options or timeouts in its query string (they would override DB_SSL_MODE and DB_*)',
    )
    .optional(),
  /** Read when DATABASE_URL is absent (see RULES). */
  DB_SECRET: z.string().optional(),
  DB_SSL_MODE: choice(['disable', 'require', 'verify-full']).default('disable'),
  DB_SSL_CA_FILE: readableFile.optional(),
  DB_POOL_MAX: integer(2, 200).default(10),
  // Bounded: a value past Node's timers (2^31 ms) or PostgreSQL's would leave the app up but never ready.
  DB_CONNECT_TIMEOUT_MS: integer(100, 600_000).default(5_000),
  DB_STATEMENT_TIMEOUT_MS: integer(100, 3_600_000).default(15_000),
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: integer(100, 3_600_000).default(30_000),
  DB_IDLE_SLEEP_SECONDS: integer(0, 86_400).default(0),
  MIGRATE_ON_START: flag().default(false),

  HTTP_BODY_LIMIT_BYTES: integer(1024, 100 * 1024 * 1024).default(1024 * 1024),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: integer(
    61_000,
    undefined,
    'must be at least 61000 (above the load balancer idle timeout of 60 s)',
  ).default(65_000),
  HTTP_REQUEST_TIMEOUT_MS: integer(1_000, 600_000).default(60_000),
  CORS_ORIGINS: list(
    url('http|https', 'must be a comma-separated list of origins such as https://app.example.com').refine(
      (value) => !value.includes('*'),
      'must list exact origins: a wildcard (*) matches no origin',
    ),
  ).default([]),
  SHUTDOWN_TIMEOUT_MS: integer(0, 120_000).default(25_000),
  API_DOCS_ENABLED: flag().default(true),
  /** Proxies in front of the app (the load balancer: 1) whose X-Forwarded-For is believed for the client's IP. */
  TRUSTED_PROXY_HOPS: integer(0, 10).default(0),
  /** Per caller (user, machine client, or IP when anonymous) and minute; 0 turns a budget off. */
  RATE_LIMIT_READS_PER_MINUTE: integer(0).default(600),
  RATE_LIMIT_WRITES_PER_MINUTE: integer(0).default(120),
  RATE_LIMIT_EVENTS_PER_MINUTE: integer(0).default(60),

  /** The calendar of analytics: a day is a day in this IANA time zone. */
  ANALYTICS_TIMEZONE: timeZone().default('UTC'),
  /** Raw events older than this are dropped, a month at a time; active days are kept. */
  ANALYTICS_RETENTION_DAYS: integer(31, 36_500).default(400),
  /** Distinct event names clients may send; a batch with a new name beyond them is refused (422). */
  ANALYTICS_MAX_EVENT_NAMES: integer(1, 100_000).default(1_000),

  /** Where clients reach the API: the base of links in emails. Default http://localhost:<PORT>. */
  PUBLIC_BASE_URL: baseUrl().optional(),
  /** How emails leave: Amazon SES v2, or files in MAIL_DIRECTORY. Default ses in production, file otherwise. */
  MAIL_TRANSPORT: choice(['ses', 'file']).optional(),
  MAIL_FROM: z.email({ error: 'must be an email address' }).default('runway@example.com'),
  MAIL_DIRECTORY: z.string().default('.data/mail'),
  /** Operators emailed about manual tasks (new, due soon, overdue). */
  TASKS_NOTIFY_EMAILS: list(z.email({ error: 'must be a comma-separated list of email addresses' })).default(
    [],
  ),
  /** Signs emailed task links (HMAC-SHA256). Required in production; from Secrets Manager on AWS. */
  TASK_LINK_SECRET: secretText().optional(),
  /** Encrypts Step Functions task tokens at rest (AES-256-GCM). Required in production; from Secrets Manager. */
  TASK_TOKEN_KEY: secretText().optional(),

  COGNITO_USER_POOL_ID: z
    .string(required('the Cognito user pool id, such as eu-west-1_AbCdEf123'))
    .regex(/^[\w-]+_[A-Za-z0-9]+$/, 'must be a Cognito user pool id, such as eu-west-1_AbCdEf123'),
  COGNITO_CLIENT_ID: list(
    z.string().regex(/^[\w-]{1,128}$/, 'must be a comma-separated list of app client ids'),
    z.string(required('the app client id(s) whose access tokens are accepted, comma-separated')),
  ).pipe(z.array(z.string()).min(1, 'is required: the app client id(s) whose access tokens are accepted')),
  COGNITO_JWKS_URL: localOrHttps('must be an http(s) URL of a JWKS document').optional(),
  COGNITO_ISSUER: localOrHttps('must be a URL').optional(),
  /** The back office's sign-in: the user pool's domain (managed login) and the web app client. */
  COGNITO_DOMAIN: z
    .string()
    .transform((value) => (/^https?:\/\//i.test(value) ? value : `https://${value}`).replace(/\/$/, ''))
    .pipe(localOrHttps('must be a host name such as auth.example.com, or an http(s) URL'))
    .refine((value) => new URL(value).origin === value, 'must be a host name or an origin, with no path')
    .optional(),
  COGNITO_WEB_CLIENT_ID: z
    .string()
    .regex(/^[\w-]{1,128}$/, 'must be an app client id')
    .optional(),

  OTEL_SERVICE_NAME: z.string().max(63).default('runway'),
  DEPLOYMENT_ENVIRONMENT: z.string().max(63).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(
    'http|https',
    'must be an http(s) URL such as http://localhost:4318',
  ).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: choice(['http/protobuf', 'http/json', 'grpc']).default('http/protobuf'),
  OTEL_TRACES_EXPORTER: choice(['otlp', 'console', 'none']).default('otlp'),
  OTEL_METRICS_EXPORTER: choice(['otlp', 'console', 'none']).default('otlp'),
  OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: choice(['cumulative', 'delta', 'lowmemory']).default(
    'cumulative',
  ),
  OTEL_TRACES_SAMPLER: choice([
    'always_on',
    'always_off',
    'traceidratio',
    'parentbased_always_on',
    'parentbased_always_off',
    'parentbased_traceidratio',
    'xray',
  ]).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce
    .number({ error: 'must be a ratio between 0 and 1' })
    .min(0, 'must be a ratio between 0 and 1')
    .max(1, 'must be a ratio between 0 and 1')
    .optional(),
  OTEL_SDK_DISABLED: flag().default(false),
  XRAY_TRACE_IDS: flag().default(true),
};

export type Variable = keyof typeof ENVIRONMENT;
export type Environment = z.output<z.ZodObject<typeof ENVIRONMENT>>;
export const VARIABLES = Object.keys(ENVIRONMENT) as Variable[];
