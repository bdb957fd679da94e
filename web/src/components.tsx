import type { ButtonHTMLAttributes, ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ProblemError } from './api';
import { addDays, today } from './format';
import type { Page as ApiPage } from './types';

export interface Loaded<T> {
  data?: T;
  error?: Error;
  loading: boolean;
  reload: () => void;
  /** Replaces the data with what an action answered (a task after a claim, with its new ETag). */
  set(data: T): void;
}

const asError = (failure: unknown): Error =>
  failure instanceof Error ? failure : new Error(String(failure));

/** Runs `load` whenever `deps` change; keeps the previous data while the next one loads. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ data: previous.data, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (failure: unknown) => current && setState({ error: asError(failure), loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...deps, attempt]);
  return {
    ...state,
    reload: () => setAttempt((count) => count + 1),
    set: (data: T) => setState({ data, loading: false }),
  };
}

export interface Paged<T> {
  items: T[];
  nextCursor: string | null;
  loading: boolean;
  error?: Error;
  more: () => void;
  /** Changes the rows loaded so far (a decided task leaves the inbox) without loading them again. */
  update: (change: (items: T[]) => T[]) => void;
}

/** A keyset-paginated list: the first page whenever `deps` change, the next ones appended by `more()`. */
export function usePaged<T>(
  loadPage: (cursor: string | null) => Promise<ApiPage<T>>,
  deps: unknown[],
): Paged<T> {
  const [state, setState] = useState<{
    items: T[];
    nextCursor: string | null;
    loading: boolean;
    error?: Error;
  }>({
    items: [],
    nextCursor: null,
    loading: true,
  });
  const latest = useRef(0);

  const fetchPage = (cursor: string | null) => {
    const request = ++latest.current;
    setState((previous) => ({ ...previous, loading: true, error: undefined }));
    loadPage(cursor).then(
      (page) =>
        request === latest.current &&
        setState((previous) => ({
          items: cursor ? [...previous.items, ...page.items] : page.items,
          nextCursor: page.nextCursor,
          loading: false,
        })),
      (failure: unknown) =>
        request === latest.current &&
        setState((previous) => ({ ...previous, loading: false, error: asError(failure) })),
    );
  };
  // Other filters: the rows (and the cursor) of the previous ones go at once, even if the new list fails to load.
  useEffect(() => setState({ items: [], nextCursor: null, loading: true }), deps);
  useEffect(() => {
    fetchPage(null);
    return () => {
      latest.current++;
    };
  }, deps);

  return {
    ...state,
    more: () => state.nextCursor && fetchPage(state.nextCursor),
    update: (change) => setState((previous) => ({ ...previous, items: change(previous.items) })),
  };
}

/** The route whose heading last took the focus; null on load, when focus starts at the top (the skip link). */
let focusedRoute: string | null = null;

/** A page's heading and document title; after a route change the heading takes the focus, so it is announced. */
export function Page({ title, children }: { title: string; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  const route = location.hash;
  useEffect(() => {
    document.title = `${title} · Runway back office`;
  }, [title]);
  useEffect(() => {
    if (focusedRoute !== null && focusedRoute !== route) heading.current?.focus();
    focusedRoute = route;
  }, [route]);
  return (
    <>
      <h1 tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children}
    </>
  );
}

/** The error, with what to fix when the API refused the request as invalid. */
export function ErrorMessage({ error }: { error?: Error | string | null }) {
  if (!error) return null;
  const errors = error instanceof ProblemError ? error.errors : [];
  return (
    <div class="error" role="alert" tabIndex={-1}>
      <p>{typeof error === 'string' ? error : error.message}</p>
      {errors.length > 0 && (
        <ul>
          {errors.map(({ pointer, detail }) => (
            <li key={`${pointer} ${detail}`}>{detail}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ when }: { when: boolean }) {
  return when ? (
    <p class="loading" role="status">
      Loading…
    </p>
  ) : null;
}

/** A horizontally scrollable, keyboard-focusable frame for a table that may not fit the screen. */
export function TableScroll({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="table-scroll" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** The numbers behind a chart, folded away: exact values, and what a screen reader reads instead of the canvas. */
export function ChartNumbers({
  summary,
  label,
  columns,
  rows,
}: {
  summary: string;
  label: string;
  /** The first names the row headers (the day or period). */
  columns: string[];
  rows: { key: string; cells: string[] }[];
}) {
  return (
    <details>
      <summary>{summary}</summary>
      <TableScroll label={label}>
        <table>
          <thead>
            <tr>
              {columns.map((column) => (
                <th key={column} scope="col">
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map(({ key, cells: [head, ...values] }) => (
              <tr key={key}>
                <th scope="row">{head}</th>
                {values.map((value, index) => (
                  <td key={index} class="number">
                    {value}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
    </details>
  );
}

/** Where the page says what happened: its error, else its status line. */
const whatThePageSays = () =>
  document.querySelector<HTMLElement>('main .error') ?? document.querySelector<HTMLElement>('main .status');

/**
 * A button whose action may take a while: while `busy` it says so (`aria-disabled`) and ignores clicks, but keeps the
 * keyboard focus, which a disabled button would drop to the top of the page. Taken away while it has the focus (its
 * task decided, here or elsewhere; the last page loaded), it hands the focus on: to `focusAfter`'s element, by default
 * what the page now says.
 */
export function ActionButton({
  busy,
  onClick,
  focusAfter = whatThePageSays,
  children,
  ...attributes
}: Omit<ButtonHTMLAttributes<HTMLButtonElement>, 'onClick'> & {
  busy: boolean;
  onClick?: () => void;
  focusAfter?: () => HTMLElement | null | undefined;
}) {
  const button = useRef<HTMLButtonElement>(null);
  const next = useRef(focusAfter);
  next.current = focusAfter;
  // A layout effect: its cleanup runs while the button is still in the page (a passive one runs after it is gone).
  useLayoutEffect(() => {
    const element = button.current;
    return () => {
      if (element !== document.activeElement) return;
      // Once the page has rendered what took the button away, unless something (a new page's heading) took the focus.
      setTimeout(() => {
        if (document.activeElement && document.activeElement !== document.body) return;
        next.current()?.focus();
      });
    };
  }, []);
  return (
    <button
      type="button"
      ref={button}
      {...attributes}
      aria-disabled={busy}
      onClick={busy ? undefined : onClick}
    >
      {children}
    </button>
  );
}

export function MoreButton({ list }: { list: Pick<Paged<unknown>, 'nextCursor' | 'loading' | 'more'> }) {
  if (!list.nextCursor) return null;
  return (
    <ActionButton
      class="secondary"
      busy={list.loading}
      onClick={list.more}
      // The last page takes the button away: the focus goes to the list it extended.
      focusAfter={() => [...document.querySelectorAll<HTMLElement>('.table-scroll')].at(-1)}
      data-more
    >
      More
    </ActionButton>
  );
}

export interface DateRange {
  from: string;
  to: string;
}

/** What each page's controls last applied, by page: moving to another page and back keeps it. */
const kept = new Map<string, unknown>();

export function useKept<T>(key: string, initial: () => T): [T, (next: T) => void] {
  const [value, setValue] = useState<T>(() => (kept.has(key) ? (kept.get(key) as T) : initial()));
  return [
    value,
    (next) => {
      kept.set(key, next);
      setValue(next);
    },
  ];
}

/** The date range, one for all the analytics pages. */
export const useRange = () =>
  useKept<DateRange>('range', () => ({ from: addDays(today(), -29), to: today() }));

export function RangeForm({
  range,
  onApply,
  children,
}: {
  range: DateRange;
  onApply: (range: DateRange) => void;
  children?: ComponentChildren;
}) {
  const [from, setFrom] = useState(range.from);
  const [to, setTo] = useState(range.to);
  return (
    <form
      class="controls"
      onSubmit={(event) => {
        event.preventDefault();
        onApply({ from, to });
      }}
    >
      <label class="field">
        <span>From</span>
        <input
          type="date"
          required
          value={from}
          max={to}
          onInput={(event) => setFrom(event.currentTarget.value)}
        />
      </label>
      <label class="field">
        <span>To</span>
        <input
          type="date"
          required
          value={to}
          min={from}
          onInput={(event) => setTo(event.currentTarget.value)}
        />
      </label>
      {children}
      <button type="submit">Apply</button>
    </form>
  );
}
