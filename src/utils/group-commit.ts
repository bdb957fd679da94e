/**
 * Group commit: items added while the previous write runs are written together by the next one, so there is one
 * write at a time however many callers there are. `add` settles with its item's result from the write that took it.
 */
export class GroupCommit<T, R> {
  /** The batch still taking items. */
  private waiting: { items: T[]; results: Promise<R[]> } | undefined;
  private previous: Promise<unknown> = Promise.resolve();

  /** `write` returns one result per item, in the items' order. */
  constructor(private readonly write: (items: T[]) => Promise<R[]>) {}

  async add(item: T): Promise<R> {
    const batch = this.waiting ?? this.open();
    const index = batch.items.push(item) - 1;
    return (await batch.results)[index]!;
  }

  private open(): { items: T[]; results: Promise<R[]> } {
    const items: T[] = [];
    const results = this.previous.then(() => {
      this.waiting = undefined;
      return this.write(items);
    });
    this.previous = results.catch(() => undefined);
    this.waiting = { items, results };
    return this.waiting;
  }
}
