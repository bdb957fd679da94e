import { Transform } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';

/** Turns an environment string into a number; anything else stays as-is so the validator reports it. */
const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;

const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') return value;
  const normalized = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(normalized)) return true;
  if (['false', '0', 'no', ''].includes(normalized)) return false;
  return value;
};

const toList = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string'
    ? value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean)
    : value;

export const NODE_ENVS = ['development', 'test', 'production'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const DB_SSL_MODES = ['disable', 'require', 'verify-full'] as const;
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export const SIGNAL_EXPORTERS = ['otlp', 'console', 'none'] as const;
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/**
 * The process environment as Runway reads it: one property per variable, with its default.
 * Every variable is documented in README.md ("Configuration") and in .env.example.
 */
export class Environment {
  @IsIn(NODE_ENVS)
  NODE_ENV: (typeof NODE_ENVS)[number] = 'development';

  @IsString()
  @MinLength(1)
  HOST = '0.0.0.0';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: (typeof LOG_LEVELS)[number] = 'info';

  @IsOptional()
  @IsUrl(
    { protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true },
    { message: 'must be a postgres:// or postgresql:// URL' },
  )
  DATABASE_URL?: string;

  @ValidateIf((env: Environment) => env.DATABASE_URL === undefined)
  @IsString({
    message: 'is required when DATABASE_URL is not set (JSON: username, password, host, port, dbname)',
  })
  DB_SECRET?: string;

  @IsIn(DB_SSL_MODES)
  DB_SSL_MODE: (typeof DB_SSL_MODES)[number] = 'disable';

  @IsOptional()
  @IsString()
  DB_SSL_CA_FILE?: string;

  @Transform(toInt)
  @IsInt()
  @Min(2)
  @Max(200)
  DB_POOL_MAX = 10;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  DB_CONNECT_TIMEOUT_MS = 5000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  DB_STATEMENT_TIMEOUT_MS = 15000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 30000;

  @Transform(toBoolean)
  @IsBoolean()
  MIGRATE_ON_START = false;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(100 * 1024 * 1024)
  HTTP_BODY_LIMIT_BYTES = 1024 * 1024;

  @Transform(toInt)
  @IsInt()
  @Min(61_000, { message: 'must be at least 61000 (above the load balancer idle timeout of 60 s)' })
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 65_000;

  @Transform(toList)
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { each: true, message: 'must be a comma-separated list of origins such as https://app.example.com' },
  )
  CORS_ORIGINS: string[] = [];

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(120_000)
  SHUTDOWN_TIMEOUT_MS = 25_000;

  @Transform(toBoolean)
  @IsBoolean()
  API_DOCS_ENABLED = true;

  @IsString()
  @MaxLength(63)
  OTEL_SERVICE_NAME = 'runway';

  /** `deployment.environment.name` on traces and metrics (the Copilot environment: test, prod). */
  @IsOptional()
  @IsString()
  @MaxLength(63)
  DEPLOYMENT_ENVIRONMENT?: string;

  /** Where traces and metrics go (an OpenTelemetry collector); unset: nothing is exported. */
  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'must be an http(s) URL such as http://localhost:4318' },
  )
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;

  @IsIn(OTLP_PROTOCOLS)
  OTEL_EXPORTER_OTLP_PROTOCOL: (typeof OTLP_PROTOCOLS)[number] = 'http/protobuf';

  @IsIn(SIGNAL_EXPORTERS)
  OTEL_TRACES_EXPORTER: (typeof SIGNAL_EXPORTERS)[number] = 'otlp';

  @IsIn(SIGNAL_EXPORTERS)
  OTEL_METRICS_EXPORTER: (typeof SIGNAL_EXPORTERS)[number] = 'otlp';

  @IsIn(TRACE_SAMPLERS)
  OTEL_TRACES_SAMPLER: (typeof TRACE_SAMPLERS)[number] = 'parentbased_always_on';

  @IsOptional()
  @Transform(toNumber)
  @IsNumber({}, { message: 'must be a ratio between 0 and 1' })
  @Min(0, { message: 'must be a ratio between 0 and 1' })
  @Max(1, { message: 'must be a ratio between 0 and 1' })
  OTEL_TRACES_SAMPLER_ARG?: number;

  @Transform(toBoolean)
  @IsBoolean()
  OTEL_SDK_DISABLED = false;

  /** X-Ray-compatible trace ids, `X-Amzn-Trace-Id` propagation and `xray_trace_id` in logs. */
  @Transform(toBoolean)
  @IsBoolean()
  XRAY_TRACE_IDS = true;

  @Matches(/^[\w-]+_[A-Za-z0-9]+$/, {
    message: 'is required: the Cognito user pool id, such as eu-west-1_AbCdEf123',
  })
  COGNITO_USER_POOL_ID: string;

  @Transform(toList)
  @ArrayNotEmpty({
    message: 'is required: the app client id(s) whose access tokens are accepted, comma-separated',
  })
  @Matches(/^[\w-]{1,128}$/, { each: true, message: 'must be a comma-separated list of app client ids' })
  COGNITO_CLIENT_ID: string[];

  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'must be an http(s) URL of a JWKS document' },
  )
  COGNITO_JWKS_URL?: string;

  @IsOptional()
  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'must be a URL' },
  )
  COGNITO_ISSUER?: string;
}
