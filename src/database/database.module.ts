import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DatabaseConnector } from './database-connector.js';
import { DatabaseIdleness } from './database-idleness.js';
import { DatabaseReadyGuard } from './database-ready.guard.js';
import { Database } from './database.js';
import { dataSourceOptions } from './data-source.js';
import { MigrationStatus } from './migration-status.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      // DatabaseConnector opens the connection, so a database outage at boot does not stop the process.
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database),
        autoLoadEntities: true,
        manualInitialization: true,
      }),
    }),
  ],
  providers: [
    DatabaseConnector,
    Database,
    DatabaseIdleness,
    MigrationStatus,
    { provide: APP_GUARD, useClass: DatabaseReadyGuard },
  ],
  exports: [Database, DatabaseIdleness, MigrationStatus],
})
export class DatabaseModule {}
