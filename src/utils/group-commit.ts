import { AsyncLocalStorage } from 'node:async_hooks';

interface Batch<T, R> {
  items: T[];
  results: Promise<R[]>;
}

/**
 * Group commit: items added under a key while that key's previous write runs are written together by the next one
 * (at most `maxItems` each), so there is one write at a time per key however many callers there are. `add` settles
 * with its item's result from the write that took it.
 */
export class GroupCommit<T, R> {
  private readonly write: (items: T[], key: string) => Promise<R[]>;
  /** Per key with a write pending: the batch still taking items, and the last write opened. */
  private readonly keys = new Map<string, { waiting?: Batch<T, R>; last: Promise<void> }>();

  /**
   * `write` returns one result per item, in the items' order. It runs in the context this was constructed in, not
   * in that of whichever caller opened the batch: never in a caller's transaction, never in its request's trace.
   */
  constructor(
    write: (items: T[], key: string) => Promise<R[]>,
    private readonly maxItems: number,
  ) {
    this.write = AsyncLocalStorage.bind(write);
  }

  async add(item: T, key = ''): Promise<R> {
    const state = this.keys.get(key) ?? { last: Promise.resolve() };
    this.keys.set(key, state);
    const batch =
      state.waiting && state.waiting.items.length < this.maxItems ? state.waiting : this.open(key, state);
    const index = batch.items.push(item) - 1;
    return (await batch.results)[index]!;
  }

  private open(key: string, state: { waiting?: Batch<T, R>; last: Promise<void> }): Batch<T, R> {
    const items: T[] = [];
    const results = state.last.then(() => {
      if (state.waiting?.items === items) state.waiting = undefined;
      return this.write(items, key);
    });
    const last: Promise<void> = results.then(
      () => this.forgetIfLast(key, last),
      () => this.forgetIfLast(key, last),
    );
    state.last = last;
    state.waiting = { items, results };
    return state.waiting;
  }

  private forgetIfLast(key: string, write: Promise<void>): void {
    if (this.keys.get(key)?.last === write) this.keys.delete(key);
  }
}
