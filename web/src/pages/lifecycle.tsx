import { useState } from 'preact/hooks';
import { api } from '../api';
import { ChartNumbers, ErrorMessage, Loading, Page, RangeForm, useLoad, useRange } from '../components';
import { formatCount } from '../format';
import type { Lifecycle } from '../types';
import { IntervalSwitch, type Interval } from './retention';

const STATES = ['new', 'returning', 'resurrecting', 'dormant'] as const;
const LABELS: Record<(typeof STATES)[number], string> = {
  new: 'New',
  returning: 'Returning',
  resurrecting: 'Resurrecting',
  dormant: 'Dormant',
};
/** Pixels for the tallest bar above plus the deepest below the axis. */
const CHART_HEIGHT = 240;

export function LifecyclePage() {
  const [range, setRange] = useRange();
  const [interval, chooseInterval] = useState<Interval>('day');
  const report = useLoad(
    () => api<Lifecycle>('/v1/admin/analytics/lifecycle', { query: { ...range, interval } }),
    [range.from, range.to, interval],
  );
  const periods = report.data?.periods ?? [];
  const highest = Math.max(
    0,
    ...periods.map((period) => period.new + period.returning + period.resurrecting),
  );
  const deepest = Math.max(0, ...periods.map((period) => period.dormant));
  const pixelsPerUser = CHART_HEIGHT / Math.max(highest + deepest, 1);
  const px = (users: number) => `${users * pixelsPerUser}px`;

  return (
    <Page title="Lifecycle">
      <RangeForm range={range} onApply={setRange} />
      <IntervalSwitch value={interval} onChange={chooseInterval} />
      <ErrorMessage error={report.error} />
      <Loading when={report.loading} />
      {report.data && periods.length === 0 && (
        <p class="muted">
          No {interval} starts in this range{interval === 'week' ? ' (weeks start on Monday)' : ''}.
        </p>
      )}
      {periods.length > 0 && (
        <>
          <ul class="legend" aria-label="Legend">
            {STATES.map((state) => (
              <li key={state}>
                <span class={`swatch segment-${state}`} aria-hidden="true" />
                {LABELS[state]}
                {state === 'dormant' && ' (below the axis)'}
              </li>
            ))}
          </ul>
          <div class="lifecycle-scroll">
            <div class="lifecycle" aria-hidden="true">
              {periods.map((period) => (
                <div key={period.start} class="lifecycle-period" title={describe(period)}>
                  <div class="lifecycle-up" style={{ height: px(highest) }}>
                    {(['new', 'returning', 'resurrecting'] as const).map((state) => (
                      <div key={state} class={`segment-${state}`} style={{ height: px(period[state]) }} />
                    ))}
                  </div>
                  <div class="lifecycle-down" style={{ height: px(deepest) }}>
                    <div class="segment-dormant" style={{ height: px(period.dormant) }} />
                  </div>
                </div>
              ))}
            </div>
            <div class="lifecycle-axis" aria-hidden="true">
              <span>{periods[0]!.start}</span>
              <span>{periods[periods.length - 1]!.start}</span>
            </div>
          </div>
          <ChartNumbers
            summary={`Numbers by ${interval}`}
            label="Lifecycle by period"
            columns={[interval === 'day' ? 'Day' : 'Week of', ...STATES.map((state) => LABELS[state])]}
            rows={periods.map((period) => ({
              key: period.start,
              cells: [period.start, ...STATES.map((state) => formatCount(period[state]))],
            }))}
          />
        </>
      )}
    </Page>
  );
}

function describe(period: Lifecycle['periods'][number]): string {
  return `${period.start}: ${STATES.map((state) => `${formatCount(period[state])} ${state}`).join(', ')}`;
}
