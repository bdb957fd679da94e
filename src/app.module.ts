import { DynamicModule, Global, Module, type ModuleMetadata } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { AuditModule } from './audit/audit.module.js';
import { AuthModule } from './auth/auth.module.js';
import { retryWritesOfDeletedUsers } from './auth/deleted-user.interceptor.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthModule } from './health/health.module.js';
import { HttpModule } from './http/http.module.js';
import { controllersOf } from './http/route-handlers.js';
import { JobsModule } from './jobs/jobs.module.js';
import { ProblemFilter } from './http/problem.filter.js';
import { loggerParams } from './http/logging.js';
import { ProjectReviewsModule } from './project-reviews/project-reviews.module.js';
import { ProjectsModule } from './projects/projects.module.js';
import { TasksModule } from './tasks/tasks.module.js';
import { TelemetryModule } from './telemetry/telemetry.module.js';
import { UsersModule } from './users/users.module.js';
import { UsersService } from './users/users.service.js';
import { Clock } from './utils/clock.js';

@Global()
@Module({})
class ConfigModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, Clock],
      exports: [APP_CONFIG, Clock],
    };
  }
}

/** Feature modules of the API; each owns its controllers, services and entities. */
const FEATURES: NonNullable<ModuleMetadata['imports']> = [
  AuthModule.register({ module: UsersModule, provisioning: UsersService }),
  HealthModule,
  UsersModule,
  ProjectsModule,
  AnalyticsModule,
  AuditModule,
  TasksModule,
  ProjectReviewsModule,
  // new:resource adds modules above this line
];

@Module({})
export class AppModule {
  /** `extra` lets tests mount probe controllers behind the real global pipeline. */
  static register(config: AppConfig, extra: NonNullable<ModuleMetadata['imports']> = []): DynamicModule {
    retryWritesOfDeletedUsers(controllersOf([...FEATURES, ...extra]));
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config),
        LoggerModule.forRoot(loggerParams(config)),
        DatabaseModule,
        JobsModule,
        HttpModule,
        TelemetryModule.register(),
        ...FEATURES,
        ...extra,
      ],
      providers: [{ provide: APP_FILTER, useClass: ProblemFilter }],
    };
  }
}
