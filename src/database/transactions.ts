import { Injectable } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { DataSource, type EntityManager } from 'typeorm';

const current = new AsyncLocalStorage<EntityManager>();

/**
 * The transaction a request runs in, without passing it through every call: code that writes uses
 * `transactions.manager`, which is the enclosing transaction's manager (e.g. the idempotency interceptor's) or the
 * default one outside a transaction.
 */
@Injectable()
export class Transactions {
  constructor(private readonly dataSource: DataSource) {}

  get manager(): EntityManager {
    return current.getStore() ?? this.dataSource.manager;
  }

  /** Runs `work` in a transaction (joining the enclosing one, if any). */
  run<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const enclosing = current.getStore();
    if (enclosing) return work(enclosing);
    return this.dataSource.transaction((manager) => current.run(manager, () => work(manager)));
  }
}
