import { accessToken, refreshTokens } from './auth';

/** One of a 400 problem's `errors`: what is wrong, and where in the request (a JSON Pointer). */
export interface FieldError {
  pointer: string;
  detail: string;
}

/** An RFC 9457 problem answer (or a failure shaped like one); `message` is its `detail`. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    /** The problem's other members, such as `errors` or a claimed task's `assignee`. */
    readonly members: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }

  get errors(): FieldError[] {
    const { errors } = this.members;
    return Array.isArray(errors)
      ? errors.filter((error): error is FieldError => typeof (error as FieldError)?.detail === 'string')
      : [];
  }
}

type Query = Record<string, string | number | null | undefined>;

export interface RequestOptions {
  method?: 'GET' | 'POST';
  query?: Query;
  body?: unknown;
  ifMatch?: string;
}

let forbidden: () => void = () => {};

/** Called when `/v1/admin/*` answers 403: the signed-in user is not an admin. */
export function onForbidden(listener: () => void): void {
  forbidden = listener;
}

export function pathOf(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

export async function request<T>(
  path: string,
  options: RequestOptions = {},
): Promise<{ body: T; etag: string | null }> {
  const url = pathOf(path, options.query);
  const send = () => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = accessToken();
    if (token) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.ifMatch) headers['if-match'] = options.ifMatch;
    return fetch(url, {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  };
  let response = await send();
  if (response.status === 401 && (await refreshTokens())) response = await send();
  if (!response.ok) throw await problemOf(response);
  return { body: (await response.json()) as T, etag: response.headers.get('etag') };
}

export async function api<T>(path: string, options?: RequestOptions): Promise<T> {
  return (await request<T>(path, options)).body;
}

async function problemOf(response: Response): Promise<ProblemError> {
  // The API's own refusal for want of the admin role, not a firewall's 403 (which says what it refused).
  if (response.status === 403 && /insufficient_scope/.test(response.headers.get('www-authenticate') ?? ''))
    forbidden();
  const body: unknown = await response.json().catch(() => ({}));
  const problem = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  return new ProblemError(
    response.status,
    text(problem.detail) ??
      text(problem.title) ??
      `The server answered ${response.status} ${response.statusText}`.trim(),
    problem,
  );
}
