import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { metrics, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Pool, PoolClient } from 'pg';
import sql, { empty, join, raw, type Sql } from 'sql-template-tag';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { classifyPostgresError, sqlState } from './postgres-errors.js';

export { empty, join, raw, sql, type Sql };

/** A statement each connection parses and plans once, then runs by name: see {@link prepared}. */
interface PreparedSql extends Sql {
  readonly preparedAs: string;
}

/**
 * Marks `statement` to be prepared once per connection under `name` and run by name afterwards, so that PostgreSQL
 * can reuse its plan: for hot statements whose planning costs more than running them (a large CTE over partitioned
 * tables). Its text must be the same on every call (only its values vary); PostgreSQL plans it again by itself when
 * a table it reads changes.
 */
export function prepared(name: string, statement: Sql): Sql {
  return Object.assign(statement, { preparedAs: name });
}

interface Transaction {
  client: PoolClient;
  /** Work to run once the transaction has committed. */
  afterCommit: (() => void | Promise<void>)[];
}
interface Committed<T> {
  result: T;
  afterCommit: Transaction['afterCommit'];
}
const transaction = new AsyncLocalStorage<Transaction>();
const TRANSACTION_ATTEMPTS = 3;
const CONTENTION_JITTER_MS = 20;
const tracer = trace.getTracer('runway');
const POOL = { 'db.client.connection.pool.name': 'runway' };

/**
 * Runs the SQL of repositories: parameterised statements built with the `sql` tag (values never concatenated), in
 * the enclosing transaction when there is one (e.g. the idempotency interceptor's), so a repository never passes a
 * transaction around. Statements go to the pg pool of the one data source directly; a connection that failed (timed
 * out, reset) is destroyed rather than returned to the pool, so the pool recovers by itself.
 */
@Injectable()
export class Database {
  /**
   * Every wait, however short: the pool's gauges are read once a minute and miss the bursts that make a p99. Named
   * as OpenTelemetry's semantic conventions name it.
   */
  private readonly connectionWait = metrics
    .getMeter('runway')
    .createHistogram('db.client.connection.wait_time', {
      description: 'Time to obtain a connection from the pool',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] },
    });

  constructor(private readonly dataSource: DataSource) {}

  async rows<Row>(statement: Sql): Promise<Row[]> {
    return (await this.run(statement)).rows as Row[];
  }

  async row<Row>(statement: Sql): Promise<Row | undefined> {
    return (await this.rows<Row>(statement))[0];
  }

  /** The number of rows an INSERT, UPDATE or DELETE touched. */
  async affected(statement: Sql): Promise<number> {
    return (await this.run(statement)).affected;
  }

  /**
   * For libraries that run their own SQL (the job runner): statements in the current transaction when there is one,
   * so what they write commits or rolls back with it.
   */
  executor(): { executeSql(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> } {
    const enclosing = transaction.getStore()?.client;
    return {
      executeSql: (text, values) =>
        enclosing
          ? traced(text, () => enclosing.query(text, values))
          : this.withClient((client) => traced(text, () => client.query(text, values))),
    };
  }

  /**
   * Runs `work` in a transaction, joining the enclosing one if any; every statement inside takes part. Once it has
   * committed (and its connection is back in the pool), what `afterCommit` deferred runs, and the caller waits for it.
   * A transaction that loses a deadlock or a serialization conflict rolls back and runs `work` again (3 attempts in
   * all), so `work` must be database work: side effects belong in `afterCommit` or in a job.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (transaction.getStore()) return work();
    // Outside the retries: whatever a deferred step throws, committed work never runs again.
    const { result, afterCommit } = await this.committedWithRetries(work);
    for (const next of afterCommit) await next();
    return result;
  }

  private async committedWithRetries<T>(work: () => Promise<T>): Promise<Committed<T>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.committedOnce(work);
      } catch (error) {
        if (attempt === TRANSACTION_ATTEMPTS || classifyPostgresError(error) !== 'contention') throw error;
        // Out of step with the transaction it collided with, which goes on while this one waits.
        await sleep(Math.random() * CONTENTION_JITTER_MS * attempt);
      }
    }
  }

  private async committedOnce<T>(work: () => Promise<T>): Promise<Committed<T>> {
    const afterCommit: Transaction['afterCommit'] = [];
    const result = await this.withClient(async (client) => {
      await client.query('BEGIN');
      try {
        const result = await transaction.run({ client, afterCommit }, work);
        // PostgreSQL answers COMMIT with ROLLBACK once a statement failed, even if the work caught the error.
        if ((await client.query('COMMIT')).command !== 'COMMIT') {
          throw new Error(
            'the transaction was rolled back: a statement in it failed, and its error was caught',
          );
        }
        return result;
      } catch (error) {
        // A broken connection is destroyed instead (the server rolls back itself); so is one that cannot roll back.
        if (!isConnectionFailure(error)) {
          await client.query('ROLLBACK').catch((rollback: Error) => {
            throw Object.assign(rollback, { code: 'ECONNRESET' });
          });
        }
        throw error;
      }
    });
    return { result, afterCommit };
  }

  /**
   * Runs `work` once the enclosing transaction has committed, never if it rolls back; at once outside a transaction.
   * For what must only report committed work (analytics events): it runs outside the transaction and should not fail,
   * since the work it follows is already committed.
   */
  async afterCommit(work: () => void | Promise<void>): Promise<void> {
    const enclosing = transaction.getStore();
    if (enclosing) enclosing.afterCommit.push(work);
    else await work();
  }

  private async run(statement: Sql): Promise<{ rows: unknown[]; affected: number }> {
    const execute = async (client: PoolClient) => {
      const { preparedAs } = statement as Partial<PreparedSql>;
      const { text, values } = statement;
      const result = await traced(text, () =>
        preparedAs ? client.query({ name: preparedAs, text, values }) : client.query(text, values),
      );
      return { rows: result.rows as unknown[], affected: result.rowCount ?? 0 };
    };
    const enclosing = transaction.getStore()?.client;
    return enclosing ? execute(enclosing) : this.withClient(execute);
  }

  private async withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const asked = performance.now();
    const client = await this.pool().connect();
    this.connectionWait.record((performance.now() - asked) / 1000, POOL);
    // A checked-out client has no 'error' listener of the pool's: a connection reset would crash the process.
    let failure: unknown;
    const onError = (error: Error) => (failure ??= error);
    client.on('error', onError);
    try {
      return await work(client);
    } catch (error) {
      failure ??= error;
      throw error;
    } finally {
      client.removeListener('error', onError);
      client.release(isConnectionFailure(failure) ? (failure as Error) : undefined);
    }
  }

  private pool(): Pool {
    return (this.dataSource.driver as PostgresDriver).master as Pool;
  }
}

/**
 * A span per statement of a sampled request (its text, never its values); nothing at all for others. Only the
 * app's statements go through here: migrations and the job runner's polling are not traced.
 */
function traced<T>(text: string, query: () => Promise<T>): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return query();
  const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
  return tracer.startActiveSpan(
    operation,
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'postgresql', 'db.query.text': text } },
    async (span) => {
      try {
        return await query();
      } catch (error) {
        // PostgreSQL's code (SQLSTATE), not its message, which may quote a value sent (`invalid input syntax …`).
        const code = sqlState(error);
        span.setAttribute('error.type', code ?? (error as Error).name);
        if (code) span.setAttribute('db.response.status_code', code);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

function isConnectionFailure(error: unknown): boolean {
  return error !== undefined && classifyPostgresError(error) === 'unavailable';
}
