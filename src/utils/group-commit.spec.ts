import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

describe('GroupCommit', () => {
  it('writes one batch at a time, each with every item added while the previous one ran', async () => {
    const writes: number[][] = [];
    let running = 0;
    let mostAtOnce = 0;
    const batches = new GroupCommit<number, number>(async (items) => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      writes.push([...items]);
      running--;
      return items.map((item) => item * 10);
    });
    const first = [batches.add(1), batches.add(2)];
    await new Promise((resolve) => setImmediate(resolve));
    const second = [batches.add(3), batches.add(4), batches.add(5)];
    expect(await Promise.all([...first, ...second])).toEqual([10, 20, 30, 40, 50]);
    expect(writes).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    expect(mostAtOnce).toBe(1);
  });

  it('settles each caller with its own write, and a failed write does not stop the next', async () => {
    let calls = 0;
    const batches = new GroupCommit<string, string>((items) => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('first write fails')) : Promise.resolve(items);
    });
    const failed = expect(batches.add('x')).rejects.toThrow('first write fails');
    await new Promise((resolve) => setImmediate(resolve));
    const later = batches.add('y');
    await failed;
    await expect(later).resolves.toBe('y');
    expect(calls).toBe(2);
  });
});
