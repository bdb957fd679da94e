/** The kinds of value environment variables hold, each with the message that says what a variable needs. */
import { isIP } from 'node:net';
import { z } from 'zod';

export const choice = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });

export const integer = (min: number, max = Number.MAX_SAFE_INTEGER, problem?: string) => {
  const error =
    problem ??
    (max === Number.MAX_SAFE_INTEGER
      ? `must be an integer ≥ ${min}`
      : `must be an integer from ${min} to ${max}`);
  // Decimal digits only: Number() would also take 0x10, 1e3 or 0b1.
  return z
    .string({ error })
    .trim()
    .regex(/^-?\d+$/, { error })
    .transform(Number)
    .pipe(z.number().int({ error }).min(min, { error }).max(max, { error }));
};

export const flag = () => z.stringbool({ error: 'must be true or false' });

/** A URL with its scheme in lower case (URLs may spell it either way), so that the rules can read it as text. */
export const url = (protocols: string, error: string) =>
  z
    .url({ protocol: new RegExp(`^(${protocols})$`), error })
    .transform((value) => value.replace(/^[a-z][\w+.-]*:/i, (scheme) => scheme.toLowerCase()));

/**
 * Where links to this API start: an http(s) URL with a host and maybe a path, nothing a link would go wrong with
 * (`<base>/t/<token>` under a query or a fragment, credentials in every email), without its trailing slash.
 */
export const baseUrl = () =>
  url('http|https', 'must be an http(s) URL such as https://api.example.com')
    .refine((value) => {
      const { search, hash, username, password } = new URL(value);
      return /^https?:\/\//i.test(value) && !search && !hash && !username && !password;
    }, 'must be a URL such as https://api.example.com or https://example.com/api: no query, fragment or credentials')
    .transform((value) => {
      const { origin, pathname } = new URL(value);
      return `${origin}${pathname}`.replace(/\/+$/, '');
    });

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** A host name (`localhost`, `api.internal`) or an IP address (`0.0.0.0`, `::`). */
export const host = () =>
  z
    .string()
    .refine(
      (value) => isIP(value) !== 0 || HOST_NAME.test(value),
      'must be an IP address or a host name, such as 0.0.0.0, :: or localhost',
    );

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
/** http:// is for emulators and the dev issuer on this machine only. */
export const localOrHttps = (error: string) =>
  url('http|https', error).refine(
    (value) => value.startsWith('https:') || LOOPBACK_HOSTS.has(new URL(value).hostname),
    'may use http:// only for a loopback host (localhost, 127.0.0.1, [::1])',
  );

/** The zone Node resolves a name to, or undefined when it knows none. */
function resolvedZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/**
 * An IANA zone name (Europe/Paris, UTC) that both Node and PostgreSQL resolve; never a bare UTC offset. A name
 * without a slash that Node reads as some region (`IST`: Asia/Calcutta, `CET`: Europe/Brussels) is refused:
 * PostgreSQL reads it as a fixed offset of its own (Israel's for IST, no daylight saving for CET).
 */
export const timeZone = () =>
  z
    .string()
    .refine(
      (name) => /^[A-Za-z][\w+-]*(\/[\w+-]+)*$/.test(name) && resolvedZone(name) !== undefined,
      'must be an IANA time zone name, such as UTC or Europe/Paris',
    )
    .refine((name) => name.includes('/') || [name, 'UTC'].includes(resolvedZone(name)!), {
      error: (issue) =>
        `must name a region: ${String(issue.input)} is read as ${resolvedZone(String(issue.input))} by Node and ` +
        'as a fixed offset by PostgreSQL (write the region you mean, such as Europe/London)',
    });

export const list = (item: z.ZodType<string, string>, text = z.string()) =>
  text.transform((value) => value.split(',').flatMap((entry) => entry.trim() || [])).pipe(z.array(item));

export const required = (what: string) => ({
  error: (issue: { input: unknown }) => (issue.input === undefined ? `is required: ${what}` : undefined),
});
