import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorMessage, Loading, Page, RangeForm, TableScroll, useLoad, useRange } from '../components';
import { formatCount, formatPercent } from '../format';
import type { Retention } from '../types';

export type Interval = 'day' | 'week';
/** Number of shades of the heat map (CSS classes heat-0 … heat-6). */
const SHADES = 6;

export function IntervalSwitch({
  value,
  onChange,
}: {
  value: Interval;
  onChange: (interval: Interval) => void;
}) {
  return (
    <fieldset class="switch">
      <legend>Interval</legend>
      {(['day', 'week'] as const).map((interval) => (
        <label key={interval}>
          <input
            type="radio"
            name="interval"
            value={interval}
            checked={value === interval}
            onChange={() => onChange(interval)}
          />
          {interval === 'day' ? 'Day' : 'Week'}
        </label>
      ))}
    </fieldset>
  );
}

export function RetentionPage() {
  const [range, setRange] = useRange();
  const [interval, chooseInterval] = useState<Interval>('day');
  const report = useLoad(
    () => api<Retention>('/v1/admin/analytics/retention', { query: { ...range, interval } }),
    [range.from, range.to, interval],
  );
  const cohorts = report.data?.cohorts ?? [];
  const periods = Math.max(0, ...cohorts.map((cohort) => cohort.retained.length));
  const unit = interval === 'day' ? 'Day' : 'Week';

  return (
    <Page title="Retention">
      <RangeForm range={range} onApply={setRange} />
      <IntervalSwitch value={interval} onChange={chooseInterval} />
      <ErrorMessage error={report.error} />
      <Loading when={report.loading} />
      {report.data && cohorts.length === 0 && <p class="muted">No cohort in this range.</p>}
      {cohorts.length > 0 && (
        <p class="muted">
          Each row is a cohort: the users first active that {interval}. {unit} <i>k</i> is the share of them
          active {interval === 'day' ? 'k days' : 'k weeks'} later (0 is the first {interval} itself).
        </p>
      )}
      {cohorts.length > 0 && (
        <TableScroll label="Retention cohorts">
          <table class="heatmap">
            <thead>
              <tr>
                <th scope="col">Cohort</th>
                <th scope="col">Users</th>
                {Array.from({ length: periods }, (_, k) => (
                  <th key={k} scope="col">
                    {unit} {k}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {cohorts.map((cohort) => (
                <tr key={cohort.start}>
                  <th scope="row">{cohort.start}</th>
                  <td class="number">{formatCount(cohort.size)}</td>
                  {Array.from({ length: periods }, (_, k) => {
                    const retained = cohort.retained[k];
                    if (retained === undefined) return <td key={k} />;
                    // No user to retain: no share, rather than a 0 % that reads as everyone gone.
                    if (!cohort.size)
                      return (
                        <td key={k} class="number muted">
                          —
                        </td>
                      );
                    const share = retained / cohort.size;
                    return (
                      <td key={k} class={`number heat heat-${Math.round(share * SHADES)}`}>
                        {formatPercent(share)}
                        <span class="heat-count">{formatCount(retained)}</span>
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </Page>
  );
}
