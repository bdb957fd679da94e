import { useState } from 'preact/hooks';
import { api } from '../api';
import {
  ErrorMessage,
  Loading,
  MoreButton,
  Page,
  RangeForm,
  TableScroll,
  useKept,
  useLoad,
  usePaged,
  useRange,
} from '../components';
import { addDays, formatDateTime } from '../format';
import { href } from '../router';
import type { AdminUser, Page as ApiPage, UserActivity } from '../types';

export function UsersPage() {
  const [q, setQ] = useKept('users', () => '');
  const [draft, setDraft] = useState(q);
  const list = usePaged(
    (cursor) => api<ApiPage<AdminUser>>('/v1/admin/users', { query: { q, cursor, limit: 50 } }),
    [q],
  );
  return (
    <Page title="Users">
      <form
        class="controls"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setQ(draft.trim());
        }}
      >
        <label class="field">
          <span>Search users</span>
          <input
            type="search"
            name="q"
            value={draft}
            placeholder="Start of a username or email"
            onInput={(event) => setDraft(event.currentTarget.value)}
          />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorMessage error={list.error} />
      <Loading when={list.loading} />
      {!list.loading && !list.error && list.items.length === 0 && <p class="muted">No user found.</p>}
      {list.items.length > 0 && (
        <TableScroll label="Users">
          <table>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((user) => (
                <tr key={user.id} data-user-id={user.id}>
                  <th scope="row">
                    <a href={href('users', user.id)}>{user.username}</a>
                  </th>
                  <td>{user.email ?? '—'}</td>
                  <td>{user.displayName ?? '—'}</td>
                  <td>
                    <time dateTime={user.createdAt}>{formatDateTime(user.createdAt)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
      <MoreButton list={list} />
    </Page>
  );
}

export function UserPage({ id }: { id: string }) {
  const [range, setRange] = useRange();
  const activity = useLoad(
    () => api<UserActivity>(`/v1/admin/users/${encodeURIComponent(id)}/activity`, { query: { ...range } }),
    [id, range.from, range.to],
  );
  const data = activity.data;
  return (
    <Page title="User activity">
      <p>
        <a href={href('users')}>← Users</a> · User <code>{id}</code>
      </p>
      <RangeForm range={range} onApply={setRange} />
      <ErrorMessage error={activity.error} />
      <Loading when={activity.loading} />
      {data && (
        <>
          <section aria-labelledby="active-days">
            <h2 id="active-days">Active days</h2>
            <ActivityStrip from={range.from} to={range.to} active={data.days} />
          </section>
          <section aria-labelledby="latest-events">
            <h2 id="latest-events">Latest events</h2>
            {data.events.length === 0 ? (
              <p class="muted">No event in this range.</p>
            ) : (
              <TableScroll label="Latest events, newest first">
                <table>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Event</th>
                      <th scope="col">Properties</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.events.map((event, index) => (
                      <tr key={index} data-event={event.name}>
                        <td>
                          <time dateTime={event.occurredAt}>{formatDateTime(event.occurredAt)}</time>
                        </td>
                        <td>
                          <a href={href('features', event.name)}>{event.name}</a>
                        </td>
                        <td>
                          {event.properties && <code class="json">{JSON.stringify(event.properties)}</code>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableScroll>
            )}
          </section>
        </>
      )}
    </Page>
  );
}

/** One square per day of the range, filled on active days; the same facts follow in words. */
function ActivityStrip({ from, to, active }: { from: string; to: string; active: string[] }) {
  const activeDays = new Set(active);
  const days: string[] = [];
  for (let day = from; day <= to && days.length <= 366; day = addDays(day, 1)) days.push(day);
  return (
    <>
      <p>
        Active on <strong data-metric="activeDays">{active.length}</strong> of {days.length} days.
      </p>
      <ol class="strip" aria-hidden="true">
        {days.map((day) => (
          <li key={day} class={activeDays.has(day) ? 'on' : undefined} title={day} />
        ))}
      </ol>
      {active.length > 0 && (
        <details>
          <summary>List of active days</summary>
          <ul class="day-list">
            {active.map((day) => (
              <li key={day}>{day}</li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
