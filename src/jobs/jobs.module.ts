import { Global, Module } from '@nestjs/common';
import { JobRunner } from './job-runner.js';
import { JobsController } from './jobs.controller.js';
import { JobsRepository } from './jobs.repository.js';
import { JobsService } from './jobs.service.js';

/** The job runner every feature may use, and the operators' view of it (GET /v1/admin/jobs). */
@Global()
@Module({
  controllers: [JobsController],
  providers: [JobRunner, JobsRepository, JobsService],
  exports: [JobRunner],
})
export class JobsModule {}
