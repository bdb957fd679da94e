import { Injectable } from '@nestjs/common';
import type { JobsDto, QueueStateDto } from './jobs.dto.js';
import { JobsRepository } from './jobs.repository.js';

const STATES = ['created', 'retry', 'active', 'completed', 'cancelled', 'failed'] as const;
const FAILURES_SHOWN = 20;

@Injectable()
export class JobsService {
  constructor(private readonly jobs: JobsRepository) {}

  async overview(): Promise<JobsDto> {
    const [counts, failures] = await Promise.all([
      this.jobs.counts(),
      this.jobs.recentFailures(FAILURES_SHOWN),
    ]);
    const queues = new Map<string, QueueStateDto>();
    for (const { queue, state, count } of counts) {
      const entry = queues.get(queue) ?? { name: queue, ...Object.fromEntries(STATES.map((s) => [s, 0])) };
      queues.set(queue, { ...(entry as QueueStateDto), [state]: count });
    }
    return {
      queues: [...queues.values()],
      failed: failures.map(({ id, queue, failedAt, retries, output }) => ({
        id,
        queue,
        failedAt: failedAt.toISOString(),
        retries,
        error: [output?.name, output?.message ?? output?.value].filter(Boolean).join(': ') || 'unknown',
      })),
    };
  }
}
