import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { getConstructionPlans } from 'pg-boss';
import { JOBS_SCHEMA } from '../../src/jobs/pg-boss.js';
import type { TestProject } from 'vitest/node';
import { loadDatabaseConfig } from '../../src/config/config.js';
import { createMigrationDataSource } from '../../src/database/data-source.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../tools/dev/embedded-postgres.js';
import { runMigrations } from '../../src/database/migrator.js';
import { createSigningKey, serveJwks, type SigningKey } from '../../tools/dev/dev-issuer.js';
import { databaseUrl } from './database.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database on the test server with the right to create databases. */
    adminDatabaseUrl: string;
    /** Migrated once per run; every test file clones it. */
    templateDatabase: string;
    /** The test issuer's key; its JWKS is served at `jwksUrl` for the whole run. */
    signingKey: SigningKey;
    jwksUrl: string;
  }
}

/**
 * One PostgreSQL per run: DATABASE_URL if given, else an embedded server in a temporary folder.
 * The schema is migrated once into a template database that each test file clones. One RSA issuer per run
 * serves its JWKS on loopback, as Cognito would.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let server: EmbeddedServer | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    server = await startEmbeddedPostgres({
      dataDir: await mkdtemp(join(tmpdir(), 'runway-test-pg-')),
      persistent: false,
    });
    adminUrl = server.url('postgres');
  }
  const template = `runway_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${template}"`);
  await admin.query(`CREATE DATABASE "${template}"`);

  const database = loadDatabaseConfig({ NODE_ENV: 'test', DATABASE_URL: databaseUrl(adminUrl, template) });
  const dataSource = createMigrationDataSource(database);
  await dataSource.initialize();
  await runMigrations(dataSource);
  // The job runner's schema too, as each app would install it at start: once here rather than once per file.
  await dataSource.query(getConstructionPlans(JOBS_SCHEMA));
  await dataSource.destroy();

  const signingKey = createSigningKey();
  const jwks = await serveJwks(signingKey.jwks);
  project.provide('signingKey', signingKey);
  project.provide('jwksUrl', jwks.url);
  project.provide('adminDatabaseUrl', adminUrl);
  project.provide('templateDatabase', template);
  return async () => {
    await jwks.close();
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await server?.stop();
  };
}
