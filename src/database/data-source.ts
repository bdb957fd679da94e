import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import type { DatabaseConfig } from '../config/config.js';
import { MIGRATIONS_TABLE } from './database.repository.js';

/** How much longer than the server's statement_timeout the client waits for an answer. */
export const CLIENT_TIMEOUT_MARGIN_MS = 1_000;
/** A server that stops answering (frozen, behind a black hole) is found by TCP keepalive: pg's options. */
export const KEEP_ALIVE = { keepAlive: true, keepAliveInitialDelayMillis: 10_000 };

/**
 * The one data source definition: the app, the migration scripts and the tests all build it from here. Entities are
 * registered by the feature modules that own them (`TypeOrmModule.forFeature`); tools that compare entities with
 * migrations pass them in.
 */
export function dataSourceOptions(
  database: DatabaseConfig,
  entities: DataSourceOptions['entities'] = [],
): DataSourceOptions {
  return {
    type: 'postgres',
    url: database.url,
    ssl: database.ssl,
    applicationName: 'runway',
    entities,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize: database.poolMax,
    connectTimeoutMS: database.connectTimeoutMs,
    // pg's pool settings. The server enforces statement_timeout; a server that stops answering (frozen, behind a
    // black hole) is caught by the client's own query_timeout just above it and by TCP keepalive.
    extra: {
      statement_timeout: database.statementTimeoutMs,
      query_timeout: database.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS,
      idle_in_transaction_session_timeout: database.idleInTransactionTimeoutMs,
      idleTimeoutMillis: 30_000,
      ...KEEP_ALIVE,
    },
  };
}

/**
 * For migrations, schema tools and test set-up: no statement or client timeouts (a migration may take long), a small
 * pool of its own, closed when done; a server that stops answering is still found by TCP keepalive.
 */
export function createMigrationDataSource(
  database: DatabaseConfig,
  entities?: DataSourceOptions['entities'],
): DataSource {
  return new DataSource({
    ...dataSourceOptions(database, entities),
    poolSize: 2,
    extra: { idleTimeoutMillis: 10_000, ...KEEP_ALIVE },
  } as DataSourceOptions);
}
