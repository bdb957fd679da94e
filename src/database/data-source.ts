import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import type { DatabaseConfig } from '../config/config.js';
import { ENTITIES } from './entities.js';

export const MIGRATIONS_TABLE = 'migrations';

/** The one data source definition: the app, the migration scripts and the tests all build it from here. */
export function dataSourceOptions(database: DatabaseConfig): DataSourceOptions {
  return {
    type: 'postgres',
    url: database.url,
    ssl: database.ssl,
    applicationName: 'runway',
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: MIGRATIONS_TABLE,
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    logging: false,
    poolSize: database.poolMax,
    connectTimeoutMS: database.connectTimeoutMs,
    extra: {
      statement_timeout: database.statementTimeoutMs,
      idle_in_transaction_session_timeout: database.idleInTransactionTimeoutMs,
      idleTimeoutMillis: 30_000,
    },
  };
}

export function createDataSource(database: DatabaseConfig): DataSource {
  return new DataSource(dataSourceOptions(database));
}
