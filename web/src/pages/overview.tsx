import type { ComponentChildren } from 'preact';
import { api } from '../api';
import { COLORS, DayChart } from '../chart';
import { ErrorMessage, Loading, Page, useLoad, type Loaded } from '../components';
import { addDays, formatChange, formatCount, formatDuration, formatPercent } from '../format';
import { href } from '../router';
import type { ActiveUsers, Compared, Lifecycle, Retention, Summary } from '../types';

export function OverviewPage() {
  const summary = useLoad(() => api<Summary>('/v1/admin/analytics/summary'), []);
  const data = summary.data;
  return (
    <Page title="Overview">
      <ErrorMessage error={summary.error} />
      <Loading when={summary.loading && !data} />
      {data && (
        <>
          <p class="muted">
            The last 7 complete days ({data.period.from} to {data.period.to}, {data.timezone}), compared with
            the 7 days before.
          </p>
          <Cards summary={data} />
        </>
      )}
    </Page>
  );
}

function Cards({ summary }: { summary: Summary }) {
  const to = summary.period.to;
  const month = { from: addDays(to, -29), to };
  const activeUsers = useLoad(
    () => api<ActiveUsers>('/v1/admin/analytics/active-users', { query: month }),
    [to],
  );
  const lifecycle = useLoad(
    () => api<Lifecycle>('/v1/admin/analytics/lifecycle', { query: { ...month, interval: 'day' } }),
    [to],
  );
  // Complete weeks only: the week still under way would show as a drop in retention every day but Monday.
  const lastSunday = addDays(to, -new Date(`${to}T00:00:00Z`).getUTCDay());
  const retention = useLoad(
    () =>
      api<Retention>('/v1/admin/analytics/retention', {
        query: { from: addDays(lastSunday, -55), to: lastSunday, interval: 'week' },
      }),
    [to],
  );
  const days = activeUsers.data?.days ?? [];
  const periods = lifecycle.data?.periods ?? [];
  const cohorts = (retention.data?.cohorts ?? []).filter((cohort) => cohort.retained.length > 1);
  const range = `${month.from} to ${month.to}`;
  const { tasks, lastCohortRetention: cohort } = summary;

  return (
    <div class="cards">
      <Card
        title="Active users"
        metric="activeUsers"
        raw={summary.activeUsers.value}
        compared={summary.activeUsers}
      >
        <Trend source={activeUsers}>
          <DayChart
            small
            label={`Daily active users, ${range}`}
            days={days.map((day) => day.date)}
            lines={[{ label: 'DAU', values: days.map((day) => day.dau), color: COLORS[0]! }]}
          />
          <p class="caption">Daily active users, last 30 days</p>
        </Trend>
      </Card>
      <Card title="New users" metric="newUsers" raw={summary.newUsers.value} compared={summary.newUsers}>
        <Trend source={lifecycle}>
          <DayChart
            small
            label={`New users per day, ${range}`}
            days={periods.map((period) => period.start)}
            lines={[{ label: 'New', values: periods.map((period) => period.new), color: COLORS[2]! }]}
          />
          <p class="caption">New users per day, last 30 days</p>
        </Trend>
      </Card>
      <Card
        title="Stickiness"
        metric="stickiness"
        raw={summary.stickiness.value}
        shown={formatPercent(summary.stickiness.value)}
        compared={summary.stickiness}
        previous={formatPercent(summary.stickiness.previous)}
      >
        <Trend source={activeUsers}>
          <DayChart
            small
            percent
            label={`Daily DAU / MAU, ${range}`}
            days={days.map((day) => day.date)}
            lines={[{ label: 'DAU / MAU', values: days.map((day) => day.stickiness), color: COLORS[3]! }]}
          />
          <p class="caption">Daily DAU / MAU, last 30 days</p>
        </Trend>
      </Card>
      <Card
        title="Last cohort's retention"
        metric="lastCohortRetention"
        raw={cohort.size ? cohort.rate : null}
        shown={cohort.size ? formatPercent(cohort.rate) : undefined}
        detail={
          cohort.size
            ? `${formatCount(cohort.retained)} of the ${formatCount(cohort.size)} users first active in the 7 days from ${cohort.cohortStart} came back in the last 7 days`
            : `No user was first active in the 7 days from ${cohort.cohortStart}`
        }
      >
        <Trend source={retention}>
          <DayChart
            small
            percent
            label="Second-week retention of the weekly cohorts of the last 8 weeks"
            days={cohorts.map((cohort) => cohort.start)}
            lines={[
              {
                label: 'Week 1',
                // An empty cohort is a gap, not a drop to 0.
                values: cohorts.map((cohort) => (cohort.size ? cohort.retained[1]! / cohort.size : null)),
                color: COLORS[1]!,
              },
            ]}
          />
          <p class="caption">Week-1 retention of weekly cohorts</p>
        </Trend>
      </Card>
      <Card title="Open tasks" metric="openTasks" raw={tasks.open}>
        <p>
          <a href={href('tasks')}>Open the inbox</a>
        </p>
      </Card>
      <Card
        title="Overdue tasks"
        metric="overdueTasks"
        raw={tasks.overdue}
        detail="Open tasks past their due date"
      />
      <Card
        title="Median time to decision"
        metric="medianTimeToDecision"
        raw={tasks.medianSecondsToDecision}
        shown={formatDuration(tasks.medianSecondsToDecision)}
        detail="From creation to a person's decision, over the last 7 days"
      />
      <section class="card card-wide" aria-labelledby="growing-events">
        <h2 id="growing-events">Fastest-growing events</h2>
        {summary.growingEvents.length === 0 ? (
          <p class="muted">No event was sent in both periods.</p>
        ) : (
          <ol class="growing">
            {summary.growingEvents.map((event) => (
              <li key={event.name} data-event={event.name}>
                <a href={href('features', event.name)}>{event.name}</a>{' '}
                <strong>{formatChange(event.change)}</strong>{' '}
                <span class="muted">
                  ({formatCount(event.count)} vs {formatCount(event.previousCount)})
                </span>
              </li>
            ))}
          </ol>
        )}
      </section>
    </div>
  );
}

function Card({
  title,
  metric,
  raw,
  shown = raw === null ? '—' : formatCount(raw),
  compared,
  previous = compared && formatCount(compared.previous),
  detail,
  children,
}: {
  title: string;
  metric: string;
  raw: number | null;
  shown?: string;
  compared?: Compared;
  previous?: string;
  detail?: string;
  children?: ComponentChildren;
}) {
  const id = `card-${metric}`;
  return (
    <section class="card" aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <p class="metric">
        <span data-metric={metric} data-value={String(raw)}>
          {shown}
        </span>
      </p>
      {compared && (
        <p class="muted">
          {formatChange(compared.change)} vs {previous} the 7 days before
        </p>
      )}
      {detail && <p class="muted">{detail}</p>}
      {children}
    </section>
  );
}

/** A card's chart, once its data is there. */
function Trend({ source, children }: { source: Loaded<unknown>; children: ComponentChildren }) {
  if (source.error) return <p class="muted">Trend unavailable: {source.error.message}</p>;
  return source.data ? <>{children}</> : null;
}
