/**
 * What every scenario shares: an embedded PostgreSQL in a temporary folder, migrated once, and a local token issuer
 * whose JWKS the app instances verify against. Each scenario writes as a user of its own, so its rows are told apart.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { loadDatabaseConfig } from '../../src/config/config.js';
import { createMigrationDataSource } from '../../src/database/data-source.js';
import { runMigrations } from '../../src/database/migrator.js';
import { createSigningKey, mintAccessToken, serveJwks } from '../dev/dev-issuer.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../dev/embedded-postgres.js';
import type { Address } from './proxy.js';

const DATABASE = 'runway_faults';
const POOL_ID = 'eu-west-1_RunwayFaults';
const CLIENT_ID = 'runway-faults';

/** Each instance's pool: small, so that the pool-exhaustion scenario needs few workers. */
export const DB_POOL_MAX = 5;

export interface Caller {
  sub: string;
  token: string;
}

export interface StoredProject {
  id: string;
  name: string;
}

export interface Lab {
  /** Where PostgreSQL listens; the proxy forwards there. */
  readonly database: Address;
  /** The app's environment, its database reached through `proxy`. */
  appEnv(proxy: Address): Record<string, string>;
  /** A user of its own and a token for it (the app creates the user on its first request). */
  newCaller(): Caller;
  /** The projects of that user, read from PostgreSQL directly. */
  projectsOf(sub: string): Promise<StoredProject[]>;
  close(): Promise<void>;
}

export async function startLab(): Promise<Lab> {
  const dataDir = await mkdtemp(join(tmpdir(), 'runway-faults-pg-'));
  let server: EmbeddedServer;
  try {
    server = await startEmbeddedPostgres({ dataDir, persistent: false });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  try {
    await server.createDatabase(DATABASE);
    const url = server.url(DATABASE);
    await migrate(url);
    const key = createSigningKey();
    const jwks = await serveJwks(key.jwks);
    return {
      database: { host: '127.0.0.1', port: server.port },
      appEnv: (proxy) => ({
        NODE_ENV: 'test',
        // Every request logged: a reset is a failure only when the instance had received that request.
        LOG_LEVEL: 'info',
        DATABASE_URL: throughProxy(url, proxy),
        DB_POOL_MAX: String(DB_POOL_MAX),
        // Low, to keep the scenarios short: a statement (and the client's wait just above it) and a connection
        // attempt or a wait for a pooled connection give up after about 2 s.
        DB_STATEMENT_TIMEOUT_MS: '2000',
        DB_CONNECT_TIMEOUT_MS: '2000',
        // As in production: above the job runner's bounded stop (11 s), which a black hole makes it wait for.
        SHUTDOWN_TIMEOUT_MS: '25000',
        COGNITO_USER_POOL_ID: POOL_ID,
        COGNITO_CLIENT_ID: CLIENT_ID,
        COGNITO_JWKS_URL: jwks.url,
        // No collector here.
        OTEL_SDK_DISABLED: 'true',
        // One caller sends the whole load: the rate limits would only slow it down.
        RATE_LIMIT_READS_PER_MINUTE: '0',
        RATE_LIMIT_WRITES_PER_MINUTE: '0',
        RATE_LIMIT_EVENTS_PER_MINUTE: '0',
      }),
      newCaller: () => {
        const sub = randomUUID();
        const token = mintAccessToken(key, {
          username: `faults-${sub.slice(0, 8)}`,
          sub,
          clientId: CLIENT_ID,
          issuer: `https://cognito-idp.eu-west-1.amazonaws.com/${POOL_ID}`,
        });
        return { sub, token };
      },
      projectsOf: (sub) => projectsOf(url, sub),
      close: async () => {
        await jwks.close();
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

async function migrate(url: string): Promise<void> {
  const dataSource = await createMigrationDataSource(
    loadDatabaseConfig({ DATABASE_URL: url, NODE_ENV: 'test' }),
  ).initialize();
  try {
    await runMigrations(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

function throughProxy(url: string, proxy: Address): string {
  const proxied = new URL(url);
  proxied.hostname = proxy.host;
  proxied.port = String(proxy.port);
  return proxied.toString();
}

async function projectsOf(url: string, sub: string): Promise<StoredProject[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<StoredProject>(
      `SELECT p.id, p.name FROM projects p JOIN users u ON u.id = p.owner_id WHERE u.cognito_sub = $1`,
      [sub],
    );
    return rows;
  } finally {
    await client.end();
  }
}
