/**
 * `npm run dev`: the API on the embedded PostgreSQL (data kept in .data/postgres; `npm run db:reset` wipes it),
 * or on DATABASE_URL when set. Migrates at start. Ctrl-C stops the API, then the database.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../root.js';
import { devDatabase } from './dev-database.js';
import {
  DEV_CLIENT_ID,
  DEV_ISSUER_DIR,
  DEV_USER_POOL_ID,
  loadOrCreateSigningKey,
  serveJwks,
} from './dev-issuer.js';

async function main(): Promise<void> {
  const database = await devDatabase((line) => process.stdout.write(`${line}\n`));
  // The dev issuer: `npm run token` signs with this key; the API fetches its JWKS over loopback.
  const jwks = await serveJwks(loadOrCreateSigningKey(DEV_ISSUER_DIR).jwks);
  const port = process.env.PORT ?? '3000';
  const api = spawn(process.execPath, ['--enable-source-maps', join(ROOT, 'dist', 'src', 'main.js')], {
    stdio: 'inherit',
    env: {
      NODE_ENV: 'development',
      MIGRATE_ON_START: 'true',
      COGNITO_USER_POOL_ID: DEV_USER_POOL_ID,
      COGNITO_CLIENT_ID: DEV_CLIENT_ID,
      COGNITO_JWKS_URL: jwks.url,
      ...process.env,
      PORT: port,
      DATABASE_URL: database.url,
    },
  });
  process.stdout.write(
    `\nRunway (development)\n` +
      `  API        http://localhost:${port}\n` +
      `  Readiness  http://localhost:${port}/health/ready\n` +
      `  API docs   http://localhost:${port}/docs\n` +
      `  Database   ${database.url}\n` +
      `  Token      npm run token -- --username alice [--groups admin]\n\n`,
  );

  // Ctrl-C reaches the API directly (same process group); it drains and exits, then the database stops.
  const forward = (signal: NodeJS.Signals) => api.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  const code = await new Promise<number>((resolve) => api.once('exit', (exitCode) => resolve(exitCode ?? 1)));
  await jwks.close();
  await database.release();
  process.exit(code);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
