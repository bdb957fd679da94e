import type { Environment, Variable } from './environment.js';
import { databaseSecret } from './environment.js';

/** A rule relating variables, reported on `variable`; skipped while a variable it reads is itself invalid. */
export interface Rule {
  variable: Variable;
  reads: Variable[];
  holds(env: Environment): boolean;
  problem: string;
  productionOnly?: true;
}

const COGNITO_POOL_ID = /^[a-z]{2}(-gov)?-[a-z]+-\d_[A-Za-z0-9]+$/;
const EMULATORS_ONLY = 'is for local issuers and emulators; not allowed when NODE_ENV=production';

export const RULES: Rule[] = [
  {
    variable: 'DB_SECRET',
    reads: ['DATABASE_URL'],
    holds: (env) => env.DATABASE_URL !== undefined || databaseSecret.safeParse(env.DB_SECRET).success,
    problem: 'is required when DATABASE_URL is not set: JSON with username, password, host, port and dbname',
  },
  {
    variable: 'COGNITO_USER_POOL_ID',
    reads: ['COGNITO_ISSUER'],
    holds: (env) => env.COGNITO_ISSUER !== undefined || COGNITO_POOL_ID.test(env.COGNITO_USER_POOL_ID),
    problem: 'is not a Cognito pool id (region_id); emulator pools need COGNITO_ISSUER as well',
  },
  {
    variable: 'TASK_LINK_SECRET',
    reads: [],
    holds: (env) => env.TASK_LINK_SECRET !== undefined,
    problem: 'is required when NODE_ENV=production (at least 32 characters, from a secret)',
    productionOnly: true,
  },
  {
    variable: 'TASK_TOKEN_KEY',
    reads: [],
    holds: (env) => env.TASK_TOKEN_KEY !== undefined,
    problem: 'is required when NODE_ENV=production (at least 32 characters, from a secret)',
    productionOnly: true,
  },
  {
    variable: 'PUBLIC_BASE_URL',
    reads: [],
    holds: (env) => env.PUBLIC_BASE_URL?.startsWith('https:') === true,
    problem:
      'is required when NODE_ENV=production: the https:// URL clients use (links in emails point there)',
    productionOnly: true,
  },
  {
    variable: 'DB_SSL_MODE',
    reads: [],
    holds: (env) => env.DB_SSL_MODE !== 'disable',
    problem: 'must be require or verify-full when NODE_ENV=production',
    productionOnly: true,
  },
  {
    variable: 'COGNITO_JWKS_URL',
    reads: [],
    holds: (env) => !env.COGNITO_JWKS_URL?.startsWith('http:'),
    problem: EMULATORS_ONLY,
    productionOnly: true,
  },
  {
    variable: 'COGNITO_ISSUER',
    reads: [],
    holds: (env) => env.COGNITO_ISSUER === undefined,
    problem: EMULATORS_ONLY,
    productionOnly: true,
  },
  {
    variable: 'COGNITO_DOMAIN',
    reads: [],
    holds: (env) => !env.COGNITO_DOMAIN?.startsWith('http:'),
    problem: EMULATORS_ONLY,
    productionOnly: true,
  },
  {
    variable: 'COGNITO_WEB_CLIENT_ID',
    reads: ['COGNITO_DOMAIN', 'COGNITO_CLIENT_ID'],
    holds: (env) =>
      (env.COGNITO_DOMAIN === undefined) === (env.COGNITO_WEB_CLIENT_ID === undefined) &&
      (env.COGNITO_WEB_CLIENT_ID === undefined || env.COGNITO_CLIENT_ID.includes(env.COGNITO_WEB_CLIENT_ID)),
    problem: 'goes with COGNITO_DOMAIN (both or neither), and must be one of COGNITO_CLIENT_ID',
  },
];
