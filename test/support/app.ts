import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.js';
import { createApp } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
import { JobRunner } from '../../src/jobs/job-runner.js';
import { DataSource } from 'typeorm';
import { authEnv } from './tokens.js';

export interface TestApp {
  readonly app: NestFastifyApplication;
  readonly config: AppConfig;
  /** supertest bound to the in-process server. */
  http(): ReturnType<typeof request>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  databaseUrl: string;
  /** Environment variables on top of the test defaults; they go through the real config validation. */
  env?: Record<string, string>;
  /** Probe controllers mounted behind the real global pipeline. */
  modules?: NonNullable<ModuleMetadata['imports']>;
}

/** The real app (global filter, pipes, guards, hooks) on a test database, not listening on a port. */
export async function createTestApp(options: TestAppOptions): Promise<TestApp> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: options.databaseUrl,
    // The template is migrated already: this only makes the connection synchronous at init.
    MIGRATE_ON_START: 'true',
    // Suites send many requests from one caller; the rate limits have a suite of their own.
    RATE_LIMIT_READS_PER_MINUTE: '0',
    RATE_LIMIT_WRITES_PER_MINUTE: '0',
    RATE_LIMIT_EVENTS_PER_MINUTE: '0',
    ...authEnv(),
    ...options.env,
  });
  const app = await createApp(config, options.modules);
  // Keys and the job runner start in the background at boot; tests start once they are (as readiness would tell).
  await app
    .get(TokenVerifier)
    .hydrate()
    .catch(() => undefined);
  if (app.get(DataSource).isInitialized) await app.get(JobRunner).settled();
  return {
    app,
    config,
    http: () => request(app.getHttpServer()),
    close: () => app.close(),
  };
}

/**
 * For a test file: registers the hooks that give it a database of its own (cloned from the migrated template) and
 * the app on it. The returned object is usable from `beforeAll` on.
 */
export function useTestApp(
  options: Omit<TestAppOptions, 'databaseUrl'> = {},
): TestApp & { readonly db: TestDatabase } {
  let db: TestDatabase | undefined;
  let testApp: TestApp | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    testApp = await createTestApp({ ...options, databaseUrl: db.url });
  });
  afterAll(async () => {
    await testApp?.close();
    await db?.drop();
  });
  const ready = () => {
    if (!testApp || !db) throw new Error('useTestApp: the app exists from beforeAll on');
    return { testApp, db };
  };
  return {
    get app() {
      return ready().testApp.app;
    },
    get config() {
      return ready().testApp.config;
    },
    get db() {
      return ready().db;
    },
    http: () => ready().testApp.http(),
    close: () => ready().testApp.close(),
  };
}
