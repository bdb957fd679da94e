import { describe, expect, it } from 'vitest';
import { backoffMs } from './retry.js';

describe('backoffMs', () => {
  it('doubles from 250 ms up to the cap, each wait somewhere between half and all of it (jitter)', () => {
    for (const [count, ceiling] of [
      [1, 500],
      [2, 1_000],
      [3, 2_000],
      [10, 5_000],
    ] as const) {
      const waits = Array.from({ length: 200 }, () => backoffMs(count, 5_000));
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Math.max(...waits)).toBeLessThanOrEqual(ceiling);
      expect(new Set(waits).size).toBeGreaterThan(1);
    }
  });
});
