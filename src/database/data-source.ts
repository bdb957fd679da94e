import { DataSource, type DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import type { DatabaseConfig } from '../config/config.js';
import { MIGRATIONS_TABLE } from './database.repository.js';

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
    extra: {
      statement_timeout: database.statementTimeoutMs,
      idle_in_transaction_session_timeout: database.idleInTransactionTimeoutMs,
      idleTimeoutMillis: 30_000,
    },
  };
}

export function createDataSource(
  database: DatabaseConfig,
  entities?: DataSourceOptions['entities'],
): DataSource {
  return new DataSource(dataSourceOptions(database, entities));
}
