import { describe, expect, it } from 'vitest';
import { KeyedBatches } from './keyed-batches.js';

describe('KeyedBatches', () => {
  it('writes one batch at a time per key, each with every item added while the previous one ran', async () => {
    const writes: { key: string; items: number[] }[] = [];
    let running = 0;
    let mostAtOnce = 0;
    const batches = new KeyedBatches<number>(async (key, items) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      writes.push({ key, items: [...items] });
      running--;
    });
    const first = batches.add('a', 1);
    const second = batches.add('a', 2);
    await new Promise((resolve) => setImmediate(resolve));
    const third = [batches.add('a', 3), batches.add('a', 4)];
    const other = batches.add('b', 9);
    await Promise.all([first, second, ...third, other]);
    expect(writes.filter(({ key }) => key === 'a')).toEqual([
      { key: 'a', items: [1, 2] },
      { key: 'a', items: [3, 4] },
    ]);
    expect(writes).toContainEqual({ key: 'b', items: [9] });
    expect(mostAtOnce).toBe(2);
  });

  it('settles each caller with its own write, and a failed write does not stop the next', async () => {
    let calls = 0;
    const batches = new KeyedBatches<string>(() => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('first write fails')) : Promise.resolve();
    });
    const failed = batches.add('a', 'x');
    await new Promise((resolve) => setImmediate(resolve));
    const later = batches.add('a', 'y');
    await expect(failed).rejects.toThrow('first write fails');
    await expect(later).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
