/**
 * Group commit per key: items added under a key while that key's previous write runs are written together by the
 * next one, so there is one write at a time per key however many callers there are. `add` settles when the write
 * that took its item has.
 */
export class KeyedBatches<T> {
  /** Per key: the batch still taking items, and the write before it. */
  private readonly waiting = new Map<string, { items: T[]; written: Promise<void> }>();
  private readonly writing = new Map<string, Promise<void>>();

  constructor(private readonly write: (key: string, items: T[]) => Promise<void>) {}

  add(key: string, item: T): Promise<void> {
    const batch = this.waiting.get(key) ?? this.open(key);
    batch.items.push(item);
    return batch.written;
  }

  private open(key: string): { items: T[]; written: Promise<void> } {
    const items: T[] = [];
    const previous = this.writing.get(key) ?? Promise.resolve();
    const written = previous.then(() => {
      this.waiting.delete(key);
      return this.write(key, items);
    });
    const settled: Promise<void> = written
      .catch(() => undefined)
      .finally(() => {
        if (this.writing.get(key) === settled) this.writing.delete(key);
      });
    this.writing.set(key, settled);
    const batch = { items, written };
    this.waiting.set(key, batch);
    return batch;
  }
}
