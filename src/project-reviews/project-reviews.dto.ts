import { ApiProperty } from '@nestjs/swagger';
import { REVIEW_STATUSES, type ReviewStatus } from './project-reviews.repository.js';

export class ProjectReviewDto {
  @ApiProperty({ format: 'uuid' })
  projectId: string;

  @ApiProperty({
    enum: ['none', ...REVIEW_STATUSES],
    description: 'none until asked; withdrawn when the task was cancelled or expired',
  })
  status: ReviewStatus | 'none';

  @ApiProperty({ type: String, nullable: true, format: 'uuid', description: 'The task a person decides' })
  taskId: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  requestedAt: string | null;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  decidedAt: string | null;
}
