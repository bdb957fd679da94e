import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AuthModule } from '../auth/auth.module.js';
import { DatabaseHealthIndicator } from './database.health.js';
import { DrainState } from './drain-state.js';
import { HealthController } from './health.controller.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), AuthModule],
  controllers: [HealthController],
  providers: [DatabaseHealthIndicator, DrainState],
  exports: [DrainState],
})
export class HealthModule {}
