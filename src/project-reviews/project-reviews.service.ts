import { Injectable, type OnModuleInit } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { Database } from '../database/database.js';
import { ProblemException } from '../http/problem.js';
import { ProjectsService } from '../projects/projects.service.js';
import { actorOf, TasksService } from '../tasks/tasks.service.js';
import { TaskTypes } from '../tasks/task-types.js';
import type { ProjectReviewDto } from './project-reviews.dto.js';
import { ProjectReviewsRepository, type ReviewRow } from './project-reviews.repository.js';

export const PROJECT_REVIEW = 'project.review';

/**
 * The example of work done by hand: an owner asks for their project to be reviewed, a person approves or rejects the
 * `project.review` task, and the decision marks the project's review approved or rejected. To automate the review
 * later, give the type a `decide` handler; nothing else changes.
 */
@Injectable()
export class ProjectReviews implements OnModuleInit {
  constructor(
    private readonly db: Database,
    private readonly reviews: ProjectReviewsRepository,
    private readonly projects: ProjectsService,
    private readonly tasks: TasksService,
    private readonly types: TaskTypes,
  ) {}

  onModuleInit(): void {
    this.types.define({
      name: PROJECT_REVIEW,
      payload: z.object({ projectId: z.uuid() }),
      dueWithinHours: 48,
      onDecided: (task, outcome) =>
        this.reviews.decide(
          task.id,
          outcome === 'approved' || outcome === 'rejected' ? outcome : 'withdrawn',
        ),
    });
    // Nobody should review a project that is gone: its open task is cancelled with it.
    // The owner deleting it is the one who cancels, as the audit log records.
    this.projects.onRemove(async (projectId, by) => {
      const review = await this.reviews.find(projectId);
      if (review?.status === 'requested')
        await this.tasks.cancelIfOpen(review.taskId, 'The project was deleted.', actorOf(by));
    });
  }

  async request(ownerId: string, projectId: string): Promise<ProjectReviewDto> {
    return this.db.transaction(async () => {
      // Held until the review and its task are stored: a deletion racing this one waits, then finds them.
      const project = await this.projects.getAndHold(ownerId, projectId);
      const taskId = uuidv7();
      const review = await this.reviews.request(projectId, taskId);
      if (!review)
        throw new ProblemException(409, { detail: 'A review of this project is already under way.' });
      await this.tasks.create(
        {
          type: PROJECT_REVIEW,
          title: `Review project “${project.name}”`,
          description: project.description,
          payload: { projectId },
          subjectUserId: ownerId,
        },
        { kind: 'user', id: ownerId },
        taskId,
      );
      return toDto(projectId, review);
    });
  }

  async get(ownerId: string, projectId: string): Promise<ProjectReviewDto> {
    await this.projects.get(ownerId, projectId);
    return toDto(projectId, await this.reviews.find(projectId));
  }
}

function toDto(projectId: string, row: ReviewRow | undefined): ProjectReviewDto {
  return {
    projectId,
    status: row?.status ?? 'none',
    taskId: row?.taskId ?? null,
    requestedAt: row?.requestedAt.toISOString() ?? null,
    decidedAt: row?.decidedAt?.toISOString() ?? null,
  };
}
