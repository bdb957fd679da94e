import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ProblemError, request } from '../api';
import {
  ActionButton,
  ErrorMessage,
  Loading,
  MoreButton,
  Page,
  TableScroll,
  useKept,
  useLoad,
  usePaged,
} from '../components';
import { formatDateTime } from '../format';
import { href, navigate } from '../router';
import { TASK_STATUSES, type AuditEntry, type Page as ApiPage, type Task, type TaskStatus } from '../types';
import { AuditTable } from './audit';

const taskPath = (id: string) => `/v1/tasks/${encodeURIComponent(id)}`;
const adminTaskPath = (id: string, action: string) => `/v1/admin/tasks/${encodeURIComponent(id)}/${action}`;

/** What a task page did before going back to the inbox, which says it once it is shown. */
let toSayInInbox = '';

const isOverdue = (task: Task) => task.status === 'open' && Date.parse(task.dueAt) < Date.now();

/** What the task became, as the status line says it: "Approved “Refund order 1001”." */
const saidOf = (task: Pick<Task, 'status' | 'title'>) =>
  `${task.status.charAt(0).toUpperCase()}${task.status.slice(1)} “${task.title}”.`;

/** Decides on the task as the list showed it: `If-Match` is the version read, so a change since then is a 412. */
async function decideNow(task: Task, outcome: 'approved' | 'rejected'): Promise<void> {
  await api<Task>(adminTaskPath(task.id, 'decision'), {
    method: 'POST',
    body: { outcome },
    ifMatch: `"${task.version}"`,
  });
}

/** The ids of the tasks whose request is under way; a change re-renders. */
function useInFlight() {
  const ids = useRef(new Set<string>());
  const [, rendered] = useState(0);
  const mark = (id: string, busy: boolean) => {
    if (busy) ids.current.add(id);
    else ids.current.delete(id);
    rendered((count) => count + 1);
  };
  return { has: (id: string) => ids.current.has(id), mark };
}

export function TasksPage() {
  const [filters, keepFilters] = useKept<{ status: TaskStatus; type: string }>('tasks', () => ({
    status: 'open',
    type: '',
  }));
  const [type, setType] = useState(filters.type);
  const inFlight = useInFlight();
  const [message, setMessage] = useState('');
  const [error, setError] = useState<Error | null>(null);
  // Said once the page is shown, so that its status region announces it.
  useEffect(() => {
    setMessage(toSayInInbox);
    toSayInInbox = '';
  }, []);
  /** Another list: what was said about the last one no longer applies. */
  const setFilters = (next: typeof filters) => {
    keepFilters(next);
    setMessage('');
    setError(null);
  };
  const list = usePaged(
    (cursor) => api<ApiPage<Task>>('/v1/admin/tasks', { query: { ...filters, cursor, limit: 50 } }),
    [filters.status, filters.type],
  );
  const types = [...new Set(list.items.map((task) => task.type))].sort();
  /** The status listed now, which may have changed while a request was under way. */
  const listed = useRef(filters.status);
  listed.current = filters.status;
  /** The row of a task as it is now: gone once it no longer has the status listed. */
  const show = (now: Task) =>
    list.update((items) =>
      items.flatMap((item) => (item.id !== now.id ? [item] : now.status === listed.current ? [now] : [])),
    );

  const decide = async (task: Task, outcome: 'approved' | 'rejected') => {
    if (inFlight.has(task.id)) return;
    inFlight.mark(task.id, true);
    setMessage('');
    setError(null);
    try {
      await decideNow(task, outcome);
      show({ ...task, status: outcome });
      setMessage(saidOf({ status: outcome, title: task.title }));
    } catch (failure) {
      setError(failure as Error);
      // Someone else changed or decided it: its row as it is now.
      if (failure instanceof ProblemError && (failure.status === 409 || failure.status === 412)) {
        const now = await api<Task>(taskPath(task.id)).catch(() => undefined);
        if (now) show(now);
      }
    } finally {
      inFlight.mark(task.id, false);
    }
  };

  return (
    <Page title="Tasks">
      <form
        class="controls"
        onSubmit={(event) => {
          event.preventDefault();
          setFilters({ ...filters, type: type.trim() });
        }}
      >
        <label class="field">
          <span>Status</span>
          <select
            value={filters.status}
            onChange={(event) => setFilters({ ...filters, status: event.currentTarget.value as TaskStatus })}
          >
            {TASK_STATUSES.map((status) => (
              <option key={status} value={status}>
                {status}
              </option>
            ))}
          </select>
        </label>
        <label class="field">
          <span>Type</span>
          <input
            type="text"
            list="task-types"
            value={type}
            onInput={(event) => setType(event.currentTarget.value)}
          />
        </label>
        <datalist id="task-types">
          {types.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
        <button type="submit">Filter</button>
      </form>
      <p role="status" class="status" tabIndex={-1}>
        {message}
      </p>
      <ErrorMessage error={error ?? list.error} />
      <Loading when={list.loading} />
      {!list.loading && list.items.length === 0 && !list.error && <p class="muted">No task here.</p>}
      {list.items.length > 0 && (
        <TableScroll label="Tasks">
          <table class="tasks">
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Due</th>
                <th scope="col">Assignee</th>
                <th scope="col">Decide</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((task) => (
                <tr key={task.id} data-task-id={task.id} class={isOverdue(task) ? 'overdue' : undefined}>
                  <th scope="row" id={`task-${task.id}`}>
                    <a href={href('tasks', task.id)}>{task.title}</a>
                  </th>
                  <td>{task.type}</td>
                  <td>{task.status}</td>
                  <td>
                    <time dateTime={task.dueAt}>{formatDateTime(task.dueAt)}</time>
                    {isOverdue(task) && <span class="badge">Overdue</span>}
                  </td>
                  <td>{task.assignee ? <a href={href('users', task.assignee)}>{task.assignee}</a> : '—'}</td>
                  <td class="actions">
                    {task.status === 'open' && (
                      <>
                        <ActionButton
                          aria-describedby={`task-${task.id}`}
                          busy={inFlight.has(task.id)}
                          onClick={() => void decide(task, 'approved')}
                        >
                          Approve
                        </ActionButton>
                        <ActionButton
                          class="danger"
                          aria-describedby={`task-${task.id}`}
                          busy={inFlight.has(task.id)}
                          onClick={() => void decide(task, 'rejected')}
                        >
                          Reject
                        </ActionButton>
                      </>
                    )}
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

export function TaskPage({ id }: { id: string }) {
  const task = useLoad(() => request<Task>(taskPath(id)), [id]);
  const history = useLoad(
    () => api<ApiPage<AuditEntry>>('/v1/admin/audit', { query: { target: id, limit: 100 } }),
    [id],
  );
  const [comment, setComment] = useState('');
  const [reason, setReason] = useState('');
  const inFlight = useInFlight();
  const busy = inFlight.has(id);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<Error | null>(null);
  /**
   * Who holds the claim this operator's claim met: taking it over is a second, deliberate click, offered while the task
   * as shown (read again after the 409) is still theirs.
   */
  const [holder, setHolder] = useState<string | null>(null);
  const current = task.data?.body;
  const shownVersion = task.data?.etag ?? undefined;

  const decide = (outcome: 'approved' | 'rejected') =>
    void act('decision', comment.trim() ? { outcome, comment: comment.trim() } : { outcome }, shownVersion);

  /**
   * Decisions and cancellations apply to the task as shown (If-Match: a change since is a 412); a claim without
   * If-Match leaves someone else's claim alone (409 naming them), with it takes it over.
   */
  const act = async (action: 'claim' | 'decision' | 'cancel', body?: unknown, ifMatch?: string) => {
    if (inFlight.has(id)) return;
    inFlight.mark(id, true);
    setMessage('');
    setError(null);
    setHolder(null);
    try {
      const answer = await request<Task>(adminTaskPath(id, action), { method: 'POST', body, ifMatch });
      if (action === 'claim') {
        task.set(answer);
        setMessage('You claimed this task.');
        history.reload();
      } else if (location.hash === href('tasks', id)) {
        // Back to the inbox, unless the operator has gone elsewhere meanwhile.
        toSayInInbox = saidOf(answer.body);
        navigate('tasks');
      }
    } catch (failure) {
      const assignee = failure instanceof ProblemError ? failure.members.assignee : undefined;
      if (action === 'claim' && typeof assignee === 'string') setHolder(assignee);
      else setError(failure as Error);
      // Someone else changed or decided it: show its state now.
      if (failure instanceof ProblemError && (failure.status === 409 || failure.status === 412)) {
        task.reload();
        history.reload();
      }
    } finally {
      inFlight.mark(id, false);
    }
  };

  return (
    <Page title={current ? current.title : 'Task'}>
      <p>
        <a href={href('tasks')}>← Inbox</a>
      </p>
      <ErrorMessage error={task.error} />
      <Loading when={task.loading && !current} />
      <p role="status" class="status" tabIndex={-1}>
        {message}
      </p>
      <ErrorMessage error={error} />
      {current && (
        <>
          <TaskDetails task={current} />
          {current.status === 'open' && (
            <section class="task-actions" aria-labelledby="decide">
              <h2 id="decide">Decide</h2>
              <ActionButton class="secondary" busy={busy} onClick={() => void act('claim')}>
                Claim
              </ActionButton>
              {holder && current.assignee === holder && (
                <p class="takeover" data-holder={holder}>
                  <a href={href('users', holder)}>Another operator</a> claimed this task.{' '}
                  <ActionButton
                    class="secondary"
                    busy={busy || task.loading}
                    onClick={() => void act('claim', undefined, shownVersion)}
                  >
                    Take over
                  </ActionButton>
                </p>
              )}
              <form class="stack" onSubmit={(event) => event.preventDefault()}>
                <label class="field">
                  <span>Comment</span>
                  <textarea
                    rows={3}
                    maxLength={2000}
                    value={comment}
                    onInput={(e) => setComment(e.currentTarget.value)}
                  />
                </label>
                <div class="buttons">
                  <ActionButton busy={busy} onClick={() => decide('approved')}>
                    Approve
                  </ActionButton>
                  <ActionButton class="danger" busy={busy} onClick={() => decide('rejected')}>
                    Reject
                  </ActionButton>
                </div>
              </form>
              <form
                class="stack"
                onSubmit={(event) => {
                  event.preventDefault();
                  if (reason.trim()) void act('cancel', { reason: reason.trim() }, shownVersion);
                  else setError(new Error('Give a reason for cancelling.'));
                }}
              >
                <label class="field">
                  <span>Reason</span>
                  <textarea
                    rows={2}
                    required
                    maxLength={2000}
                    value={reason}
                    onInput={(e) => setReason(e.currentTarget.value)}
                  />
                </label>
                <div class="buttons">
                  <ActionButton type="submit" class="secondary" busy={busy}>
                    Cancel task
                  </ActionButton>
                </div>
              </form>
            </section>
          )}
          <section aria-labelledby="history">
            <h2 id="history">History</h2>
            <ErrorMessage error={history.error} />
            {history.data &&
              (history.data.items.length ? (
                <AuditTable entries={history.data.items} label="Task history" />
              ) : (
                <p class="muted">Nothing recorded yet.</p>
              ))}
          </section>
        </>
      )}
    </Page>
  );
}

function TaskDetails({ task }: { task: Task }) {
  const { decision } = task;
  return (
    <>
      <p class="description">{task.description}</p>
      <dl class="details">
        <dt>Status</dt>
        <dd data-task-status>
          {task.status}
          {isOverdue(task) && <span class="badge">Overdue</span>}
        </dd>
        <dt>Type</dt>
        <dd>{task.type}</dd>
        <dt>Due</dt>
        <dd>
          <time dateTime={task.dueAt}>{formatDateTime(task.dueAt)}</time>
        </dd>
        <dt>Expires</dt>
        <dd>
          {task.expiresAt ? <time dateTime={task.expiresAt}>{formatDateTime(task.expiresAt)}</time> : 'Never'}
        </dd>
        <dt>Assignee</dt>
        <dd>{task.assignee ? <a href={href('users', task.assignee)}>{task.assignee}</a> : 'Nobody'}</dd>
        {task.subjectUserId && (
          <>
            <dt>About user</dt>
            <dd>
              <a href={href('users', task.subjectUserId)}>{task.subjectUserId}</a>
            </dd>
          </>
        )}
        <dt>Created</dt>
        <dd>
          <time dateTime={task.createdAt}>{formatDateTime(task.createdAt)}</time> by {task.createdBy.kind}{' '}
          {task.createdBy.id}
        </dd>
        <dt>Decision</dt>
        <dd>
          {decision ? (
            <>
              {decision.outcome} by {decision.decidedBy} (via {decision.via}),{' '}
              <time dateTime={decision.decidedAt}>{formatDateTime(decision.decidedAt)}</time>
              {decision.comment && <q>{decision.comment}</q>}
            </>
          ) : (
            'None yet'
          )}
        </dd>
        {task.callback && (
          <>
            <dt>Workflow callback</dt>
            <dd>
              {task.callback.status}
              {task.callback.reason && `: ${task.callback.reason}`}
            </dd>
          </>
        )}
      </dl>
      <h2>Payload</h2>
      <pre class="payload" tabIndex={0} role="region" aria-label="Payload">
        {JSON.stringify(task.payload, null, 2)}
      </pre>
    </>
  );
}
