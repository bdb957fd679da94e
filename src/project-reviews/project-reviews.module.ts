import { Module } from '@nestjs/common';
import { ProjectsModule } from '../projects/projects.module.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { ProjectReviewsController } from './project-reviews.controller.js';
import { ProjectReviewsRepository } from './project-reviews.repository.js';
import { ProjectReviews } from './project-reviews.service.js';

/** A manual step of the product, faked with a task until it is automated: reviewing a project. */
@Module({
  imports: [ProjectsModule, TasksModule],
  controllers: [ProjectReviewsController],
  providers: [ProjectReviews, ProjectReviewsRepository],
})
export class ProjectReviewsModule {}
