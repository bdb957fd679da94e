import { api } from '../api';
import { COLORS, DayChart } from '../chart';
import { ChartNumbers, ErrorMessage, Loading, Page, RangeForm, useLoad, useRange } from '../components';
import { formatCount, formatPercent } from '../format';
import type { ActiveUsers } from '../types';

export function ActiveUsersPage() {
  const [range, setRange] = useRange();
  const report = useLoad(
    () => api<ActiveUsers>('/v1/admin/analytics/active-users', { query: { ...range } }),
    [range.from, range.to],
  );
  const days = report.data?.days ?? [];
  const dates = days.map((day) => day.date);
  const meanStickiness = days.length ? days.reduce((sum, day) => sum + day.stickiness, 0) / days.length : 0;

  return (
    <Page title="Active users">
      <RangeForm range={range} onApply={setRange} />
      <ErrorMessage error={report.error} />
      <Loading when={report.loading} />
      {report.data && (
        <>
          <p>
            Mean stickiness (DAU / MAU) over the range:{' '}
            <strong data-metric="meanStickiness">{formatPercent(meanStickiness)}</strong>{' '}
            <span class="muted">(days in {report.data.timezone})</span>
          </p>
          <h2>Daily, weekly and monthly active users</h2>
          <DayChart
            label={`Daily, weekly and monthly active users from ${range.from} to ${range.to}; the table below has the numbers`}
            days={dates}
            lines={[
              { label: 'DAU', values: days.map((day) => day.dau), color: COLORS[0]! },
              { label: 'WAU', values: days.map((day) => day.wau), color: COLORS[1]! },
              { label: 'MAU', values: days.map((day) => day.mau), color: COLORS[2]! },
            ]}
          />
          <h2>Stickiness</h2>
          <DayChart
            percent
            label={`Daily stickiness (DAU / MAU) from ${range.from} to ${range.to}; the table below has the numbers`}
            days={dates}
            lines={[{ label: 'DAU / MAU', values: days.map((day) => day.stickiness), color: COLORS[3]! }]}
          />
          <ChartNumbers
            summary="Numbers by day"
            label="Active users by day"
            columns={['Day', 'DAU', 'WAU', 'MAU', 'Stickiness']}
            rows={days.map((day) => ({
              key: day.date,
              cells: [
                day.date,
                formatCount(day.dau),
                formatCount(day.wau),
                formatCount(day.mau),
                formatPercent(day.stickiness),
              ],
            }))}
          />
        </>
      )}
    </Page>
  );
}
