import { Injectable } from '@nestjs/common';
import { Database, sql } from '../database/database.js';

export interface TasksReading {
  openByType: { type: string; open: number; overdue: number }[];
  medianSecondsToDecision: number | null;
}

/** The figures of the manual work, read for the gauges and the back office's summary. */
@Injectable()
export class TaskStatisticsRepository {
  constructor(private readonly db: Database) {}

  /** Open tasks by type, overdue ones, and the median time to a person's decision over the last `days` days. */
  async statistics(days: number): Promise<TasksReading> {
    const [openByType, median] = await Promise.all([
      this.db.rows<{ type: string; open: number; overdue: number }>(sql`
        SELECT type, count(*)::int AS open, (count(*) FILTER (WHERE due_at < now()))::int AS overdue
        FROM tasks WHERE status = 'open' GROUP BY type ORDER BY type`),
      this.db.row<{ seconds: number | null }>(sql`
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - created_at))::float8
          AS seconds
        FROM tasks
        WHERE decided_at >= now() - make_interval(days => ${days}) AND decision_outcome IN ('approved', 'rejected')
          AND decided_via <> 'system'`),
    ]);
    return { openByType, medianSecondsToDecision: median?.seconds ?? null };
  }
}
