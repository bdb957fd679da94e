import type { Queue } from 'pg-boss';

/** A kind of job: its queue, what it does, how it is retried, and (for scheduled work) when it runs. */
export interface JobDefinition<Data extends object = object> {
  /** `idempotency-keys.purge` */
  queue: string;
  /**
   * Must be safe to run twice: a job is done once, but a crash mid-way makes it run again. Jobs of one queue may run
   * side by side (up to 5 in a process).
   */
  handle(data: Data): Promise<void>;
  /**
   * A cron expression (UTC): one job per tick, whatever the number of instances. Ticks missed while no instance ran
   * (or all slept: DB_IDLE_SLEEP_SECONDS) give one job when the runner starts again.
   */
  cron?: string;
  /** Retries after the first attempt; 3 by default. */
  retryLimit?: number;
  /** First retry after 10 s by default, then doubling with jitter, up to retryDelayMaxSeconds (10 min). */
  retryDelaySeconds?: number;
  retryDelayMaxSeconds?: number;
  /** An attempt running longer than this fails (and is retried); 5 min by default. */
  expireInSeconds?: number;
}

/** The settings of a definition's queue, with the defaults above; `notify` wakes a worker as soon as a job is sent. */
export function queueSettings(definition: JobDefinition): Omit<Queue, 'name'> {
  return {
    retryLimit: definition.retryLimit ?? 3,
    retryDelay: definition.retryDelaySeconds ?? 10,
    retryBackoff: true,
    retryDelayMax: definition.retryDelayMaxSeconds ?? 600,
    expireInSeconds: definition.expireInSeconds ?? 300,
    notify: true,
  };
}
