import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import sql, { empty, join, type Sql } from 'sql-template-tag';
import { DataSource, type QueryRunner } from 'typeorm';

export { empty, join, sql, type Sql };

const transaction = new AsyncLocalStorage<QueryRunner>();

/**
 * Runs the SQL of repositories: parameterised statements built with the `sql` tag (values never concatenated), in
 * the enclosing transaction when there is one (e.g. the idempotency interceptor's), so a repository never passes a
 * transaction around.
 */
@Injectable()
export class Database {
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

  /** Runs `work` in a transaction, joining the enclosing one if any; every statement inside takes part. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (transaction.getStore()) return work();
    return this.dataSource.transaction((manager) => transaction.run(manager.queryRunner!, work));
  }

  private async run(statement: Sql): Promise<{ rows: unknown[]; affected: number }> {
    const enclosing = transaction.getStore();
    const runner = enclosing ?? this.dataSource.createQueryRunner();
    try {
      const result = await runner.query(statement.text, statement.values, true);
      return { rows: (result.records as unknown[] | undefined) ?? [], affected: result.affected ?? 0 };
    } finally {
      if (!enclosing) await runner.release();
    }
  }
}
