import { DEV_CLIENT_ID, DEV_USER_POOL_ID } from './dev-issuer.js';

/** The operator manual tasks email under `npm run dev`: the emails land in .data/mail, their links in the log. */
export const DEV_OPERATOR_EMAIL = 'operator@example.com';

/**
 * The API's environment under `npm run dev`: the development defaults (loopback only, the dev issuer, migrations at
 * start, an operator to email) under the caller's own variables. A variable set but empty counts as unset, as in the app, so it
 * does not take a default away (`COGNITO_DOMAIN=` in a .env left the back office without sign-in).
 */
export function apiEnvironment(
  dev: { port: number; issuer: { url: string; jwksUrl: string }; databaseUrl: string },
  env: NodeJS.ProcessEnv,
): NodeJS.ProcessEnv {
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value?.trim()));
  return {
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    MIGRATE_ON_START: 'true',
    COGNITO_USER_POOL_ID: DEV_USER_POOL_ID,
    COGNITO_CLIENT_ID: DEV_CLIENT_ID,
    COGNITO_JWKS_URL: dev.issuer.jwksUrl,
    COGNITO_DOMAIN: dev.issuer.url,
    COGNITO_WEB_CLIENT_ID: DEV_CLIENT_ID,
    TASKS_NOTIFY_EMAILS: DEV_OPERATOR_EMAIL,
    PUBLIC_BASE_URL: `http://localhost:${dev.port}`,
    ...set,
    PORT: String(dev.port),
    DATABASE_URL: dev.databaseUrl,
  };
}
