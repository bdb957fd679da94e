import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/config/config.js';
import { TokenVerifier } from '../../src/auth/token-verifier.js';
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
    ...authEnv(),
    ...options.env,
  });
  const app = await createApp(config, options.modules);
  // Keys are loaded in the background at boot; tests start once they are (as readiness would tell).
  await app
    .get(TokenVerifier)
    .hydrate()
    .catch(() => undefined);
  return {
    app,
    config,
    http: () => request(app.getHttpServer()),
    close: () => app.close(),
  };
}
