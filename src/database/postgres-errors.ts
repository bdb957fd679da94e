/**
 * What a PostgreSQL or driver error means for the caller. The problem filter turns these into status codes; services
 * name the constraints they expect (see `conflictOnDuplicate`) to give a precise 409.
 */
export type PostgresFailure = 'unavailable' | 'conflict' | 'unstorable' | 'contention';

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement timeout)
  '53300', // too_many_connections
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Cannot execute operation because connection is not yet established|Client has encountered a connection error)/i;
const UNIQUE_VIOLATION = '23505';
const FOREIGN_KEY_VIOLATION = '23503';
/** Concurrent transactions in each other's way: a deadlock, a serialization failure, a lock not available. */
const CONTENTION_CODES = new Set(['40P01', '40001', '55P03']);
/**
 * Input the database cannot store (a NUL character in text, a date out of its range): the request's fault, not the
 * server's. Not a check violation (23514): the checks guard what the server sets, so one is a bug, answered 500.
 */
const UNSTORABLE_CODES = new Set(['22021', '22P05', '22001', '22008']);

/**
 * A referenced row that is gone, found by a statement's own check where a foreign key would cost too much (events
 * are checked once per batch). It carries what PostgreSQL's foreign-key violation carries, so it is handled as one.
 */
export class MissingReference extends Error {
  readonly code = FOREIGN_KEY_VIOLATION;
  readonly detail: string;

  constructor(table: string, key: string) {
    super(`${table} row ${key} does not exist`);
    this.detail = `Key (id)=(${key}) is not present in table "${table}".`;
  }
}

export function classifyPostgresError(error: unknown): PostgresFailure | undefined {
  const code = codeOf(error) ?? '';
  if (UNAVAILABLE_CODES.has(code) || (error instanceof Error && UNAVAILABLE_MESSAGES.test(error.message))) {
    return 'unavailable';
  }
  if (code === UNIQUE_VIOLATION || code === FOREIGN_KEY_VIOLATION) return 'conflict';
  if (UNSTORABLE_CODES.has(code)) return 'unstorable';
  if (CONTENTION_CODES.has(code)) return 'contention';
  return undefined;
}

/** The unique constraint a statement violated (`uq_projects_owner_name`), if that is why it failed. */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  const { constraint } = detailOf(error);
  return codeOf(error) === UNIQUE_VIOLATION && typeof constraint === 'string' ? constraint : undefined;
}

/** PostgreSQL's code for the error (its SQLSTATE, `22P02`), if PostgreSQL raised it. */
export function sqlState(error: unknown): string | undefined {
  const code = codeOf(error);
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function codeOf(error: unknown): string | undefined {
  const code = detailOf(error).code;
  return typeof code === 'string' ? code : undefined;
}

function detailOf(error: unknown): { code?: unknown; constraint?: unknown } {
  const wrapped = error as { code?: unknown; driverError?: { code?: unknown; constraint?: unknown } } | null;
  return wrapped?.driverError ?? wrapped ?? {};
}

/**
 * The row a write referred to that does not exist (a foreign-key violation): `{ table: 'users', key: '0190…' }`, from
 * PostgreSQL's detail `Key (owner_id)=(0190…) is not present in table "users".`
 */
export function missingReference(error: unknown): { table: string; key: string } | undefined {
  if (codeOf(error) !== FOREIGN_KEY_VIOLATION) return undefined;
  const detail =
    (error as { detail?: unknown; driverError?: { detail?: unknown } }).driverError?.detail ??
    (error as { detail?: unknown }).detail;
  const match = /^Key \([^)]*\)=\((.*)\) is not present in table "([^"]+)"\.$/.exec(String(detail));
  return match ? { key: match[1]!, table: match[2]! } : undefined;
}

/** Where in PostgreSQL an error arose: none of these quotes a value. */
const PLACE_FIELDS = ['routine', 'schema', 'table', 'column', 'dataType', 'constraint'] as const;

/**
 * A PostgreSQL error as a log line may keep it. Data exceptions (22…) and integrity violations (23…) quote what a
 * request sent (`invalid input syntax for type uuid: "…"`, a failing row's values): of those, only the code, where
 * it arose and the call sites. Undefined for any other error, which is logged as it is.
 */
export function withoutValues(error: unknown): Record<string, unknown> | undefined {
  const code = sqlState(error);
  if (!code || !/^2[23]/.test(code)) return undefined;
  const source = detailOf(error) as Record<string, unknown>;
  const message = `PostgreSQL error ${code}`;
  const stack = (error as { stack?: unknown }).stack;
  return {
    type: 'DatabaseError',
    message,
    code,
    ...Object.fromEntries(
      PLACE_FIELDS.filter((field) => typeof source[field] === 'string').map((field) => [
        field,
        source[field],
      ]),
    ),
    ...(typeof stack === 'string' && {
      stack: [`DatabaseError: ${message}`, ...stack.split('\n').filter((line) => /^\s+at /.test(line))].join(
        '\n',
      ),
    }),
  };
}
