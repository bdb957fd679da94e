import { useState } from 'preact/hooks';
import { api } from '../api';
import { ErrorMessage, Loading, MoreButton, Page, TableScroll, useKept, usePaged } from '../components';
import { formatDateTime } from '../format';
import { href } from '../router';
import type { AuditEntry, Page as ApiPage } from '../types';

export function AuditPage() {
  const [filters, setFilters] = useKept('audit', () => ({ actor: '', action: '' }));
  const [draft, setDraft] = useState(filters);
  const list = usePaged(
    (cursor) => api<ApiPage<AuditEntry>>('/v1/admin/audit', { query: { ...filters, cursor, limit: 50 } }),
    [filters.actor, filters.action],
  );
  return (
    <Page title="Audit log">
      <form
        class="controls"
        onSubmit={(event) => {
          event.preventDefault();
          setFilters({ actor: draft.actor.trim(), action: draft.action.trim() });
        }}
      >
        <label class="field">
          <span>Actor</span>
          <input
            type="text"
            value={draft.actor}
            placeholder="User id, client id or email"
            onInput={(event) => setDraft({ ...draft, actor: event.currentTarget.value })}
          />
        </label>
        <label class="field">
          <span>Action</span>
          <input
            type="text"
            value={draft.action}
            placeholder="task.decided"
            onInput={(event) => setDraft({ ...draft, action: event.currentTarget.value })}
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorMessage error={list.error} />
      <Loading when={list.loading} />
      {!list.loading && !list.error && list.items.length === 0 && <p class="muted">No entry.</p>}
      {list.items.length > 0 && <AuditTable entries={list.items} label="Audit entries, newest first" />}
      <MoreButton list={list} />
    </Page>
  );
}

export function AuditTable({ entries, label }: { entries: AuditEntry[]; label: string }) {
  return (
    <TableScroll label={label}>
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Via</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id} data-audit-id={entry.id}>
              <td>
                <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
              </td>
              <td>
                {entry.actor.kind}:{' '}
                {entry.actor.kind === 'user' ? (
                  <a href={href('users', entry.actor.id)}>{entry.actor.id}</a>
                ) : (
                  entry.actor.id
                )}
              </td>
              <td>{entry.action}</td>
              <td>
                {entry.target.type}:{' '}
                {entry.target.type === 'task' ? (
                  <a href={href('tasks', entry.target.id)}>{entry.target.id}</a>
                ) : (
                  entry.target.id
                )}
              </td>
              <td>{entry.via}</td>
              <td>
                <code class="json">{JSON.stringify(entry.details)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
