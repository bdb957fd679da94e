import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

describe('GroupCommit', () => {
  it('writes one batch at a time, each with the items added while the previous one ran, up to a maximum', async () => {
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
    }, 3);
    const first = [batches.add(1), batches.add(2)];
    await new Promise((resolve) => setImmediate(resolve));
    const later = [3, 4, 5, 6, 7].map((item) => batches.add(item));
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50, 60, 70]);
    expect(writes).toEqual([
      [1, 2],
      [3, 4, 5],
      [6, 7],
    ]);
    expect(mostAtOnce).toBe(1);
  });

  it('writes one batch at a time per key, and different keys side by side', async () => {
    const running = new Set<string>();
    const overlaps: string[] = [];
    const batches = new GroupCommit<number, string>(async (items, key) => {
      for (const other of running) overlaps.push(`${key}+${other}`);
      running.add(key);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running.delete(key);
      return items.map((item) => `${key}${item}`);
    }, 10);
    const results = await Promise.all([batches.add(1, 'a'), batches.add(2, 'b'), batches.add(3, 'a')]);
    expect(results).toEqual(['a1', 'b2', 'a3']);
    expect(overlaps).toEqual(['b+a']);
    expect(await batches.add(4, 'a')).toBe('a4');
  });

  it('settles each caller with its own write, and a failed write does not stop the next', async () => {
    let calls = 0;
    const batches = new GroupCommit<string, string>((items) => {
      calls++;
      return calls === 1 ? Promise.reject(new Error('first write fails')) : Promise.resolve(items);
    }, 10);
    const failed = expect(batches.add('x')).rejects.toThrow('first write fails');
    await new Promise((resolve) => setImmediate(resolve));
    const later = batches.add('y');
    await failed;
    await expect(later).resolves.toBe('y');
    expect(calls).toBe(2);
  });

  it('writes outside the context of the caller that opened the batch', async () => {
    const context = new AsyncLocalStorage<string>();
    const batches = new GroupCommit<number, string | undefined>(
      (items) => Promise.resolve(items.map(() => context.getStore())),
      10,
    );
    expect(await context.run('a request', () => batches.add(1))).toBeUndefined();
  });
});
