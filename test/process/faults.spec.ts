import { describe, expect, it } from 'vitest';
import { runFaults } from '../../tools/faults/harness.js';

/**
 * `npm run faults -- --quick` on three scenarios, in this process: two built app instances under a write load through
 * a database outage, a database black hole and a SIGTERM. No timing assertion: the harness's own hung threshold (an
 * attempt unanswered for 30 s) is the only clock, so a slow machine gives more 503s, not a failure.
 */
describe('faults (quick): outage, black hole, SIGTERM', () => {
  it(
    'keeps every acknowledged write exactly once, with no 5xx but 503, no hung request, no reset, no crash',
    { timeout: 600_000 },
    async () => {
      const report = await runFaults({ quick: true, scenarios: ['outage', 'black-hole', 'sigterm'] });

      const counts = report.rows.map(
        ({ scenario, missing, duplicated, other5xx, hung, resets, crashes }) => ({
          scenario,
          missing,
          duplicated,
          other5xx,
          hung,
          resets,
          crashes,
        }),
      );
      expect(counts, report.table).toEqual(
        ['outage', 'black-hole', 'sigterm'].map((scenario) => ({
          scenario,
          missing: 0,
          duplicated: 0,
          other5xx: 0,
          hung: 0,
          resets: 0,
          crashes: 0,
        })),
      );
      expect(
        report.rows.every((row) => row.acknowledged > 0),
        report.table,
      ).toBe(true);
    },
  );
});
