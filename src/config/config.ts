import { databaseSecret, ENVIRONMENT, VARIABLES, type Environment, type Variable } from './environment.js';
import { RULES } from './rules.js';

export { VARIABLES } from './environment.js';

export type AppConfig = DeepReadonly<ReturnType<typeof appConfig>>;
export type DatabaseConfig = AppConfig['database'];
export type AuthConfig = AppConfig['auth'];
export type TelemetryConfig = AppConfig['telemetry'];

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

/** Never used in production (TASK_LINK_SECRET and TASK_TOKEN_KEY are required there). */
const DEVELOPMENT_ONLY_SECRET = 'runway-development-only-secret-never-in-production';

/** Injection token for the frozen {@link AppConfig}. */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Reads the environment once into a typed, frozen configuration.
 * Throws a {@link ConfigError} naming every bad variable; values are never echoed (they may be secrets).
 */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): AppConfig {
  return deepFreeze(appConfig(readEnvironment(source, VARIABLES)));
}

/** Only the database settings (the migration scripts need nothing else); same rules as {@link loadConfig}. */
export function loadDatabaseConfig(source: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  const names = VARIABLES.filter((name) => name === 'NODE_ENV' || /^(DB_|DATABASE_)/.test(name));
  return deepFreeze(databaseConfig(readEnvironment(source, names)));
}

/** Each variable parsed on its own, so that one bad value does not hide the others; empty counts as unset. */
function readEnvironment(source: NodeJS.ProcessEnv, names: readonly Variable[]): Environment {
  const env: Record<string, unknown> = {};
  const issues: ConfigIssue[] = [];
  for (const name of names) {
    const result = ENVIRONMENT[name].safeParse(source[name]?.trim() || undefined);
    if (result.success) env[name] = result.data;
    else issues.push({ variable: name, problem: result.error.issues[0]!.message });
  }
  const invalid = (name: Variable) => issues.some((issue) => issue.variable === name);
  for (const rule of RULES) {
    const applies =
      names.includes(rule.variable) &&
      ![rule.variable, ...rule.reads].some(invalid) &&
      (!rule.productionOnly || env.NODE_ENV === 'production');
    if (applies && !rule.holds(env as Environment)) {
      issues.push({ variable: rule.variable, problem: rule.problem });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return env as Environment;
}

function appConfig(env: Environment) {
  return {
    env: env.NODE_ENV,
    logLevel: env.LOG_LEVEL,
    http: {
      host: env.HOST,
      port: env.PORT,
      bodyLimitBytes: env.HTTP_BODY_LIMIT_BYTES,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      // Browsers send the bare origin: `https://app.example.com/` would never match it.
      corsOrigins: env.CORS_ORIGINS.map((origin) => new URL(origin).origin),
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      apiDocsEnabled: env.API_DOCS_ENABLED,
      trustedProxyHops: env.TRUSTED_PROXY_HOPS,
      /** Requests per minute and caller, by budget; 0: unlimited. */
      rateLimits: {
        read: env.RATE_LIMIT_READS_PER_MINUTE,
        write: env.RATE_LIMIT_WRITES_PER_MINUTE,
        ingest: env.RATE_LIMIT_EVENTS_PER_MINUTE,
      },
    },
    database: databaseConfig(env),
    analytics: {
      timeZone: env.ANALYTICS_TIMEZONE,
      retentionDays: env.ANALYTICS_RETENTION_DAYS,
      maxEventNames: env.ANALYTICS_MAX_EVENT_NAMES,
    },
    publicBaseUrl: (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT}`).replace(/\/$/, ''),
    mail: {
      transport: env.MAIL_TRANSPORT ?? (env.NODE_ENV === 'production' ? 'ses' : 'file'),
      from: env.MAIL_FROM,
      directory: env.MAIL_DIRECTORY,
    },
    tasks: {
      notifyEmails: env.TASKS_NOTIFY_EMAILS,
      // Outside production a fixed, well-known secret keeps links valid across restarts of `npm run dev`.
      linkSecret: env.TASK_LINK_SECRET ?? DEVELOPMENT_ONLY_SECRET,
      tokenKey: env.TASK_TOKEN_KEY ?? DEVELOPMENT_ONLY_SECRET,
    },
    auth: authConfig(env),
    telemetry: telemetryConfig(env),
  };
}

function databaseConfig(env: Environment) {
  const secret = env.DATABASE_URL === undefined ? databaseSecret.parse(env.DB_SECRET) : undefined;
  const text = (value: string) => encodeURIComponent(value);
  return {
    /** DATABASE_URL, or the URL made of DB_SECRET's fields. */
    url:
      env.DATABASE_URL ??
      `postgres://${text(secret!.username)}:${text(secret!.password)}@${secret!.host}:${secret!.port}/${text(secret!.dbname)}`,
    ssl:
      env.DB_SSL_MODE === 'disable'
        ? (false as const)
        : { rejectUnauthorized: env.DB_SSL_MODE === 'verify-full', ca: env.DB_SSL_CA_FILE },
    poolMax: env.DB_POOL_MAX,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
    idleInTransactionTimeoutMs: env.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    idleSleepSeconds: env.DB_IDLE_SLEEP_SECONDS,
    migrateOnStart: env.MIGRATE_ON_START,
  };
}

function authConfig(env: Environment) {
  const region = env.COGNITO_USER_POOL_ID.split('_')[0]!;
  /** Expected `iss`: Cognito's, or COGNITO_ISSUER for emulators whose issuer is not AWS-shaped. */
  const issuer = (
    env.COGNITO_ISSUER ?? `https://cognito-idp.${region}.amazonaws.com/${env.COGNITO_USER_POOL_ID}`
  ).replace(/\/$/, '');
  return {
    userPoolId: env.COGNITO_USER_POOL_ID,
    clientIds: env.COGNITO_CLIENT_ID,
    issuer,
    jwksUrl: env.COGNITO_JWKS_URL ?? `${issuer}/.well-known/jwks.json`,
    /** The issuer is not Cognito's own (an emulator). */
    customIssuer: env.COGNITO_ISSUER !== undefined,
    /** Managed login for the back office (authorization code + PKCE), when configured. */
    webSignIn:
      env.COGNITO_DOMAIN && env.COGNITO_WEB_CLIENT_ID
        ? { domain: env.COGNITO_DOMAIN, clientId: env.COGNITO_WEB_CLIENT_ID }
        : null,
  };
}

/** A signal is exported when its exporter is `console`, or `otlp` with an endpoint to send to. */
function telemetryConfig(env: Environment) {
  const exported = (exporter: Environment['OTEL_TRACES_EXPORTER']) =>
    !env.OTEL_SDK_DISABLED &&
    (exporter === 'console' || (exporter === 'otlp' && env.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined));
  return {
    serviceName: env.OTEL_SERVICE_NAME,
    deploymentEnvironment: env.DEPLOYMENT_ENVIRONMENT ?? env.NODE_ENV,
    tracesEnabled: exported(env.OTEL_TRACES_EXPORTER),
    metricsEnabled: exported(env.OTEL_METRICS_EXPORTER),
    xrayTraceIds: env.XRAY_TRACE_IDS,
    // The SDK reads these OTEL_* variables itself; they are validated and recorded here.
    otlp: {
      endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
      protocol: env.OTEL_EXPORTER_OTLP_PROTOCOL,
      metricsTemporality: env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
    },
    sampler: { name: env.OTEL_TRACES_SAMPLER, ratio: env.OTEL_TRACES_SAMPLER_ARG },
  };
}

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}
