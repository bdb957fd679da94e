import { join } from 'node:path';
import pg from 'pg';
import { ROOT } from '../root.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.js';

export const DEV_DATA_DIR = join(ROOT, '.data', 'postgres');
const DEV_DB_PORT = Number(process.env.DEV_DB_PORT ?? 54329);
const DEV_DATABASE = 'runway';

export interface DevDatabase {
  url: string;
  /** Stops the embedded server if this call started it. */
  release(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise the embedded development server in .data/postgres, started unless it is
 * already running (e.g. under `npm run dev`).
 */
export async function devDatabase(log: (line: string) => void = () => undefined): Promise<DevDatabase> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, release: () => Promise.resolve() };
  const url = `postgres://postgres:postgres@127.0.0.1:${DEV_DB_PORT}/${DEV_DATABASE}`;
  if (await answers(url)) return { url, release: () => Promise.resolve() };

  log(`Starting embedded PostgreSQL (.data/postgres, port ${DEV_DB_PORT})…`);
  const server: EmbeddedServer = await startEmbeddedPostgres({
    dataDir: DEV_DATA_DIR,
    port: DEV_DB_PORT,
    persistent: true,
  });
  await server.createDatabase(DEV_DATABASE);
  return { url: server.url(DEV_DATABASE), release: () => server.stop() };
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}
