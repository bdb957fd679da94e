import { Injectable } from '@nestjs/common';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { TasksRepository } from './tasks.repository.js';

export interface TasksSummary {
  open: number;
  overdue: number;
  /** Over the last 7 days; null when nobody decided a task. */
  medianSecondsToDecision: number | null;
}

const READING_TTL_MS = 5_000;

/** How the manual work goes: open and overdue tasks (also as gauges), and how long people take to decide. */
@Injectable()
export class TaskStatistics {
  private latest?: { at: number; value: ReturnType<TasksRepository['statistics']> };

  constructor(
    private readonly tasks: TasksRepository,
    metrics: BusinessMetrics,
  ) {
    metrics.gauge('runway.tasks.open', 'Open tasks, by type', '{task}', async (result) => {
      for (const { type, open } of (await this.reading()).openByType) result.observe(open, { type });
    });
    metrics.gauge('runway.tasks.overdue', 'Open tasks past their due date', '{task}', async (result) => {
      result.observe((await this.summary()).overdue);
    });
  }

  async summary(): Promise<TasksSummary> {
    const { openByType, medianSecondsToDecision } = await this.reading();
    return {
      open: openByType.reduce((sum, row) => sum + row.open, 0),
      overdue: openByType.reduce((sum, row) => sum + row.overdue, 0),
      medianSecondsToDecision,
    };
  }

  /** One query serves both gauges of an export and the summaries asked within a few seconds. */
  private reading(): ReturnType<TasksRepository['statistics']> {
    if (!this.latest || Date.now() - this.latest.at > READING_TTL_MS) {
      const value = this.tasks.statistics(7);
      this.latest = { at: Date.now(), value };
      value.catch(() => (this.latest = undefined));
    }
    return this.latest.value;
  }
}
