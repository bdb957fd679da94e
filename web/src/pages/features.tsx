import { useState } from 'preact/hooks';
import { api } from '../api';
import { COLORS, DayChart } from '../chart';
import {
  ChartNumbers,
  ErrorMessage,
  Loading,
  Page,
  RangeForm,
  TableScroll,
  useLoad,
  useRange,
} from '../components';
import { formatChange, formatCount } from '../format';
import { href } from '../router';
import { EVENTS_REPORTED, type EventDays, type EventUse } from '../types';

type Column = keyof EventUse;

const COLUMNS: [Column, string][] = [
  ['name', 'Event'],
  ['count', 'Count'],
  ['users', 'Users'],
  ['previousCount', 'Previous count'],
  ['change', 'Change'],
];

export function FeaturesPage() {
  const [range, setRange] = useRange();
  const [sort, setSort] = useState<{ column: Column; descending: boolean }>({
    column: 'count',
    descending: true,
  });
  const report = useLoad(
    () =>
      api<{ items: EventUse[] }>('/v1/admin/analytics/events', {
        query: { ...range, limit: EVENTS_REPORTED },
      }),
    [range.from, range.to],
  );

  const rows = [...(report.data?.items ?? [])].sort((a, b) => {
    const order = compare(a[sort.column], b[sort.column]);
    return sort.descending ? -order : order;
  });
  const sortBy = (column: Column) =>
    setSort((current) => ({
      column,
      descending: current.column === column ? !current.descending : column !== 'name',
    }));

  return (
    <Page title="Features">
      <RangeForm range={range} onApply={setRange} />
      <ErrorMessage error={report.error} />
      <Loading when={report.loading} />
      {report.data && rows.length === 0 && <p class="muted">No event in this range.</p>}
      {rows.length > 0 && (
        <p class="muted">
          Events from {range.from} to {range.to}
          {rows.length === EVENTS_REPORTED ? `, the ${formatCount(EVENTS_REPORTED)} most sent` : ''}; the
          previous count covers as many days just before. Sort by a column with its heading.
        </p>
      )}
      {rows.length > 0 && (
        <TableScroll label="Events">
          <table>
            <thead>
              <tr>
                {COLUMNS.map(([column, label]) => (
                  <th
                    key={column}
                    scope="col"
                    aria-sort={
                      sort.column === column ? (sort.descending ? 'descending' : 'ascending') : undefined
                    }
                  >
                    <button type="button" class="sort" onClick={() => sortBy(column)}>
                      {label}
                      <span aria-hidden="true" class="sort-mark">
                        {sort.column === column ? (sort.descending ? ' ▼' : ' ▲') : ''}
                      </span>
                    </button>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((event) => (
                <tr key={event.name} data-event={event.name}>
                  <th scope="row">
                    <a href={href('features', event.name)}>{event.name}</a>
                  </th>
                  <td class="number">{formatCount(event.count)}</td>
                  <td class="number">{formatCount(event.users)}</td>
                  <td class="number">{formatCount(event.previousCount)}</td>
                  <td class="number">{formatChange(event.change)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </Page>
  );
}

/** Numbers before text; a missing change (a new event) sorts above every number. */
function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return typeof a === 'string' && typeof b === 'string' ? a.localeCompare(b) : Number(a) - Number(b);
}

export function FeaturePage({ name }: { name: string }) {
  const [range, setRange] = useRange();
  const report = useLoad(
    () => api<EventDays>(`/v1/admin/analytics/events/${encodeURIComponent(name)}`, { query: { ...range } }),
    [name, range.from, range.to],
  );
  const days = report.data?.days ?? [];
  const total = days.reduce((sum, day) => sum + day.count, 0);
  return (
    <Page title={`Event ${name}`}>
      <p>
        <a href={href('features')}>← All events</a>
      </p>
      <RangeForm range={range} onApply={setRange} />
      <ErrorMessage error={report.error} />
      <Loading when={report.loading} />
      {report.data && (
        <>
          <p>
            <strong data-metric="eventCount">{formatCount(total)}</strong> events from {range.from} to{' '}
            {range.to}.
          </p>
          <DayChart
            label={`Daily count and users of ${name} from ${range.from} to ${range.to}; the table below has the numbers`}
            days={days.map((day) => day.date)}
            lines={[
              { label: 'Count', values: days.map((day) => day.count), color: COLORS[0]! },
              { label: 'Users', values: days.map((day) => day.users), color: COLORS[2]! },
            ]}
          />
          <ChartNumbers
            summary="Numbers by day"
            label={`${name} by day`}
            columns={['Day', 'Count', 'Users']}
            rows={days.map((day) => ({
              key: day.date,
              cells: [day.date, formatCount(day.count), formatCount(day.users)],
            }))}
          />
        </>
      )}
    </Page>
  );
}
