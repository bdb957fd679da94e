import { Injectable } from '@nestjs/common';
import { BusinessMetrics } from '../telemetry/business-metrics.js';
import { TaskTypes } from './task-types.js';
import { TaskStatisticsRepository, type TasksReading } from './task-statistics.repository.js';

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
  private latest?: { at: number; value: Promise<TasksReading> };

  constructor(
    private readonly tasks: TaskStatisticsRepository,
    metrics: BusinessMetrics,
    types: TaskTypes,
  ) {
    metrics.gauge('runway.tasks.open', 'Open tasks, by type', '{task}', async (result) => {
      const open = new Map((await this.reading()).openByType.map((row) => [row.type, row.open]));
      // Every type the code defines, 0 when none is open: a type left out would keep its last value (cumulative
      // export) or read as missing data (delta, CloudWatch), never as 0.
      for (const type of new Set([...types.names, ...open.keys()]))
        result.observe(open.get(type) ?? 0, { type });
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
  private reading(): Promise<TasksReading> {
    if (!this.latest || Date.now() - this.latest.at > READING_TTL_MS) {
      const value = this.tasks.statistics(7);
      this.latest = { at: Date.now(), value };
      value.catch(() => (this.latest = undefined));
    }
    return this.latest.value;
  }
}
