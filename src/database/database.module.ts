import { Global, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { DatabaseConnector } from './database-connector.js';
import { DatabaseReadyGuard } from './database-ready.guard.js';
import { dataSourceOptions } from './data-source.js';
import { Transactions } from './transactions.js';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [APP_CONFIG],
      // DatabaseConnector opens the connection, so a database outage at boot does not stop the process.
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions(config.database),
        manualInitialization: true,
      }),
    }),
  ],
  providers: [DatabaseConnector, Transactions, { provide: APP_GUARD, useClass: DatabaseReadyGuard }],
  exports: [Transactions],
})
export class DatabaseModule {}
