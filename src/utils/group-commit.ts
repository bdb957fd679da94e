import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Group commit: items added while the previous write runs are written together by the next one (at most `maxItems`
 * each), so there is one write at a time however many callers there are. `add` settles with its item's result from
 * the write that took it.
 */
export class GroupCommit<T, R> {
  private readonly write: (items: T[]) => Promise<R[]>;
  /** The batch still taking items. */
  private waiting: { items: T[]; results: Promise<R[]> } | undefined;
  private previous: Promise<unknown> = Promise.resolve();

  /**
   * `write` returns one result per item, in the items' order. It runs in the context this was constructed in, not
   * in that of whichever caller opened the batch: never in a caller's transaction, never in its request's trace.
   */
  constructor(
    write: (items: T[]) => Promise<R[]>,
    private readonly maxItems: number,
  ) {
    this.write = AsyncLocalStorage.bind(write);
  }

  async add(item: T): Promise<R> {
    const batch = this.waiting && this.waiting.items.length < this.maxItems ? this.waiting : this.open();
    const index = batch.items.push(item) - 1;
    return (await batch.results)[index]!;
  }

  private open(): { items: T[]; results: Promise<R[]> } {
    const items: T[] = [];
    const results = this.previous.then(() => {
      if (this.waiting?.items === items) this.waiting = undefined;
      return this.write(items);
    });
    this.previous = results.catch(() => undefined);
    this.waiting = { items, results };
    return this.waiting;
  }
}
