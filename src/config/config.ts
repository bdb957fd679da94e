import { readFileSync } from 'node:fs';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { Environment } from './environment.js';

export interface DatabaseConfig {
  /** postgres:// URL built from DATABASE_URL or from the fields of DB_SECRET. */
  readonly url: string;
  readonly ssl: false | { readonly rejectUnauthorized: boolean; readonly ca?: string };
  readonly poolMax: number;
  readonly connectTimeoutMs: number;
  readonly statementTimeoutMs: number;
  readonly idleInTransactionTimeoutMs: number;
  readonly migrateOnStart: boolean;
}

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly keepAliveTimeoutMs: number;
  readonly corsOrigins: readonly string[];
  readonly shutdownTimeoutMs: number;
  readonly apiDocsEnabled: boolean;
}

export interface AuthConfig {
  readonly userPoolId: string;
  readonly clientIds: readonly string[];
  /** Expected `iss`: Cognito's, or COGNITO_ISSUER for emulators whose issuer is not AWS-shaped. */
  readonly issuer: string;
  /** Where signing keys are fetched: `${issuer}/.well-known/jwks.json` unless COGNITO_JWKS_URL overrides it. */
  readonly jwksUrl: string;
  /** True when COGNITO_ISSUER is set: the issuer is not Cognito's own. */
  readonly customIssuer: boolean;
}

export interface TelemetryConfig {
  readonly serviceName: string;
  readonly deploymentEnvironment: string;
  /** Spans are exported (OTLP to OTEL_EXPORTER_OTLP_ENDPOINT, or console). Off: no SDK, no cost. */
  readonly tracesEnabled: boolean;
  readonly metricsEnabled: boolean;
  readonly xrayTraceIds: boolean;
}

export interface AppConfig {
  readonly env: Environment['NODE_ENV'];
  readonly logLevel: Environment['LOG_LEVEL'];
  readonly http: HttpConfig;
  readonly database: DatabaseConfig;
  readonly auth: AuthConfig;
  readonly telemetry: TelemetryConfig;
}

export interface ConfigIssue {
  readonly variable: string;
  readonly problem: string;
}

export class ConfigError extends Error {
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(
      `Invalid configuration (${issues.length} ${issues.length === 1 ? 'problem' : 'problems'}):\n` +
        issues.map(({ variable, problem }) => `  - ${variable}: ${problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/** Injection token for the frozen {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');

export const VARIABLES = [
  ...Object.keys(new Environment()),
  'DATABASE_URL',
  'DB_SECRET',
  'DB_SSL_CA_FILE',
  'COGNITO_USER_POOL_ID',
  'COGNITO_CLIENT_ID',
  'COGNITO_JWKS_URL',
  'COGNITO_ISSUER',
  'DEPLOYMENT_ENVIRONMENT',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_TRACES_SAMPLER_ARG',
];
const DATABASE_VARIABLES = VARIABLES.filter((name) => name.startsWith('DB_') || name === 'DATABASE_URL');

/**
 * Reads the environment once into a typed, frozen configuration.
 * Throws a {@link ConfigError} naming every bad variable; values are never echoed (they may be secrets).
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const { env, issues } = parseEnvironment(source);
  const database = databaseSection(env, issues);
  const auth = authConfig(env, issues);
  if (issues.length > 0 || database === undefined || auth === undefined) throw new ConfigError(issues);

  return deepFreeze({
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    http: {
      host: env.HOST,
      port: env.PORT,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      corsOrigins: env.CORS_ORIGINS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      apiDocsEnabled: env.API_DOCS_ENABLED,
    },
    database,
    auth,
    telemetry: telemetryConfig(env),
  });
}

/** A signal is exported when its exporter is `console`, or `otlp` with an endpoint to send to. */
function telemetryConfig(env: Environment): TelemetryConfig {
  const exported = (exporter: Environment['OTEL_TRACES_EXPORTER']) =>
    !env.OTEL_SDK_DISABLED &&
    (exporter === 'console' || (exporter === 'otlp' && env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined));
  return {
    serviceName: env.OTEL_SERVICE_NAME,
    deploymentEnvironment: env.DEPLOYMENT_ENVIRONMENT ?? env.NODE_ENV,
    tracesEnabled: exported(env.OTEL_TRACES_EXPORTER),
    metricsEnabled: exported(env.OTEL_METRICS_EXPORTER),
    xrayTraceIds: env.XRAY_TRACE_IDS,
  };
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const COGNITO_POOL_ID = /^[a-z]{2}(-gov)?-[a-z]+-\d_[A-Za-z0-9]+$/;

/**
 * Emulator overrides (a local JWKS over http, a non-Cognito issuer) are for development and tests: http is accepted
 * for loopback hosts only, and neither override is accepted in production.
 */
function authConfig(env: Environment, issues: ConfigIssue[]): AuthConfig | undefined {
  if (env.COGNITO_USER_POOL_ID === undefined || env.COGNITO_CLIENT_ID === undefined) return undefined;
  const production = env.NODE_ENV === 'production';
  for (const variable of ['COGNITO_JWKS_URL', 'COGNITO_ISSUER'] as const) {
    const value = env[variable];
    if (value === undefined || issues.some((issue) => issue.variable === variable)) continue;
    const url = new URL(value);
    if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname)) {
      issues.push({
        variable,
        problem: 'may use http:// only for a loopback host (localhost, 127.0.0.1, [::1])',
      });
    } else if (production && (variable === 'COGNITO_ISSUER' || url.protocol === 'http:')) {
      issues.push({
        variable,
        problem: 'is for local issuers and emulators; not allowed when NODE_ENV=production',
      });
    }
  }
  if (env.COGNITO_ISSUER === undefined && !COGNITO_POOL_ID.test(env.COGNITO_USER_POOL_ID)) {
    issues.push({
      variable: 'COGNITO_USER_POOL_ID',
      problem: 'is not a Cognito pool id (region_id); emulator pools need COGNITO_ISSUER as well',
    });
    return undefined;
  }
  const region = env.COGNITO_USER_POOL_ID.split('_')[0]!;
  const issuer = (
    env.COGNITO_ISSUER ?? `https://cognito-idp.${region}.amazonaws.com/${env.COGNITO_USER_POOL_ID}`
  ).replace(/\/$/, '');
  return {
    userPoolId: env.COGNITO_USER_POOL_ID,
    clientIds: env.COGNITO_CLIENT_ID,
    issuer,
    jwksUrl: env.COGNITO_JWKS_URL ?? `${issuer}/.well-known/jwks.json`,
    customIssuer: env.COGNITO_ISSUER !== undefined,
  };
}

/**
 * Only the database settings (the migration scripts need nothing else); same rules as {@link loadConfig}.
 */
export function loadDatabaseConfig(source: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const parsed = parseEnvironment(source);
  const issues = parsed.issues.filter(
    (issue) => DATABASE_VARIABLES.includes(issue.variable) || issue.variable === 'NODE_ENV',
  );
  const database = databaseSection(parsed.env, issues);
  if (issues.length > 0 || database === undefined) throw new ConfigError(issues);
  return deepFreeze(database);
}

function parseEnvironment(source: NodeJS.ProcessEnv): { env: Environment; issues: ConfigIssue[] } {
  const raw: Record<string, string> = {};
  for (const name of VARIABLES) {
    const value = source[name]?.trim();
    if (value) raw[name] = value;
  }
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  return { env, issues: validateSync(env, { forbidUnknownValues: true }).map(toIssue) };
}

function databaseSection(env: Environment, issues: ConfigIssue[]): DatabaseConfig | undefined {
  const database = issues.some((issue) => DATABASE_VARIABLES.includes(issue.variable))
    ? undefined
    : databaseConfig(env, issues);
  if (env.NODE_ENV === 'production' && env.DB_SSL_MODE === 'disable') {
    issues.push({
      variable: 'DB_SSL_MODE',
      problem: 'must be require or verify-full when NODE_ENV=production',
    });
  }
  return database;
}

function toIssue(error: ValidationError): ConfigIssue {
  const problems = Object.values(error.constraints ?? {}).map((message) =>
    // class-validator prefixes messages with the property name; keep only the reason.
    message.startsWith(`${error.property} `) ? message.slice(error.property.length + 1) : message,
  );
  return { variable: error.property, problem: problems.join('; ') };
}

function databaseConfig(env: Environment, issues: ConfigIssue[]): DatabaseConfig | undefined {
  const url = env.DATABASE_URL ?? urlFromSecret(env.DB_SECRET ?? '', issues);
  const ssl = sslConfig(env, issues);
  if (url === undefined || ssl === undefined) return undefined;
  return {
    url,
    ssl,
    poolMax: env.DB_POOL_MAX,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    migrateOnStart: env.MIGRATE_ON_START,
  };
}

/** DB_SECRET is the JSON that Copilot's Aurora addon injects: {username,password,host,port,dbname,...}. */
function urlFromSecret(secret: string, issues: ConfigIssue[]): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    issues.push({
      variable: 'DB_SECRET',
      problem: 'must be JSON with username, password, host, port and dbname',
    });
    return undefined;
  }
  const fields = parsed as Record<string, unknown>;
  const missing = ['username', 'password', 'host', 'dbname'].filter(
    (key) => typeof fields[key] !== 'string' || fields[key] === '',
  );
  const port = fields.port === undefined ? 5432 : Number(fields.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) missing.push('port');
  if (missing.length > 0) {
    issues.push({ variable: 'DB_SECRET', problem: `missing or invalid field(s): ${missing.join(', ')}` });
    return undefined;
  }
  const text = (key: string) => encodeURIComponent(fields[key] as string);
  return `postgres://${text('username')}:${text('password')}@${fields.host as string}:${port}/${text('dbname')}`;
}

function sslConfig(env: Environment, issues: ConfigIssue[]): DatabaseConfig['ssl'] | undefined {
  if (env.DB_SSL_MODE === 'disable') return false;
  if (env.DB_SSL_CA_FILE === undefined) return { rejectUnauthorized: env.DB_SSL_MODE === 'verify-full' };
  try {
    return {
      rejectUnauthorized: env.DB_SSL_MODE === 'verify-full',
      ca: readFileSync(env.DB_SSL_CA_FILE, 'utf8'),
    };
  } catch {
    issues.push({ variable: 'DB_SSL_CA_FILE', problem: 'cannot be read' });
    return undefined;
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
