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

export interface AppConfig {
  readonly env: Environment['NODE_ENV'];
  readonly serviceName: string;
  readonly logLevel: Environment['LOG_LEVEL'];
  readonly http: HttpConfig;
  readonly database: DatabaseConfig;
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

const VARIABLES = [...Object.keys(new Environment()), 'DATABASE_URL', 'DB_SECRET', 'DB_SSL_CA_FILE'];
const DATABASE_VARIABLES = VARIABLES.filter((name) => name.startsWith('DB_') || name === 'DATABASE_URL');

/**
 * Reads the environment once into a typed, frozen configuration.
 * Throws a {@link ConfigError} naming every bad variable; values are never echoed (they may be secrets).
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  const raw: Record<string, string> = {};
  for (const name of VARIABLES) {
    const value = source[name]?.trim();
    if (value) raw[name] = value;
  }
  const env = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const issues: ConfigIssue[] = validateSync(env, { forbidUnknownValues: true }).map(toIssue);

  const database = issues.some((issue) => DATABASE_VARIABLES.includes(issue.variable))
    ? undefined
    : databaseConfig(env, issues);
  if (env.NODE_ENV === 'production' && env.DB_SSL_MODE === 'disable') {
    issues.push({
      variable: 'DB_SSL_MODE',
      problem: 'must be require or verify-full when NODE_ENV=production',
    });
  }
  if (issues.length > 0 || database === undefined) throw new ConfigError(issues);

  return deepFreeze({
    env: env.NODE_ENV,
    serviceName: env.SERVICE_NAME,
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
  });
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
