import { ApiProperty } from '@nestjs/swagger';

export class QueueStateDto {
  @ApiProperty({ example: 'idempotency-keys.purge' })
  name: string;

  @ApiProperty({ description: 'Waiting for their first attempt' })
  created: number;

  @ApiProperty({ description: 'Failed at least once, waiting to be tried again' })
  retry: number;

  @ApiProperty()
  active: number;

  @ApiProperty({ description: 'Kept 7 days' })
  completed: number;

  @ApiProperty()
  cancelled: number;

  @ApiProperty({ description: 'Out of retries' })
  failed: number;
}

export class FailedJobDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty()
  queue: string;

  @ApiProperty({ format: 'date-time' })
  failedAt: string;

  @ApiProperty({ description: 'Attempts after the first' })
  retries: number;

  @ApiProperty({ description: 'What the last attempt threw' })
  error: string;
}

export class JobsDto {
  @ApiProperty({ type: [QueueStateDto] })
  queues: QueueStateDto[];

  @ApiProperty({ type: [FailedJobDto], description: 'The 20 most recent failures' })
  failed: FailedJobDto[];
}
