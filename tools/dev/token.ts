/**
 * `npm run token -- --username alice [--email a@example.com] [--groups admin] [--scope "runway/tasks.write"]`
 * prints an access token that `npm run dev` accepts. Without --username: a machine (client-credentials) token.
 * The same username always gets the same `sub`, so it is the same Runway user across tokens.
 */
import { parseArgs } from 'node:util';
import { DEV_ISSUER_DIR, devUserSub, loadOrCreateSigningKey, mintAccessToken } from './dev-issuer.js';

const USAGE =
  'usage: npm run token --silent -- [--username NAME [--email ADDRESS] [--groups admin,…]] [--scope "…"] ' +
  '[--expires-in SECONDS]';

function token(): string {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean' },
      username: { type: 'string' },
      email: { type: 'string' },
      groups: { type: 'string' },
      scope: { type: 'string' },
      'expires-in': { type: 'string', default: '3600' },
    },
  });
  if (values.help) return USAGE;
  // As Cognito's client-credentials flow: a machine token carries no user's claims.
  if (!values.username && (values.email !== undefined || values.groups !== undefined)) {
    throw new Error('--email and --groups belong to a user: give --username too');
  }
  // Usernames are case-insensitive, as in the pool (and the dev sign-in): Alice and alice are one user.
  const username = values.username?.trim().toLowerCase();
  const expiresInSeconds = Number(values['expires-in']);
  if (!Number.isSafeInteger(expiresInSeconds) || expiresInSeconds <= 0) {
    throw new Error(`--expires-in must be a whole number of seconds, not "${values['expires-in']}"`);
  }
  return mintAccessToken(loadOrCreateSigningKey(DEV_ISSUER_DIR), {
    username,
    sub: username ? devUserSub(username) : undefined,
    email: values.email,
    groups: values.groups?.split(',').filter(Boolean),
    scope: values.scope,
    expiresInSeconds,
  });
}

try {
  process.stdout.write(`${token()}\n`);
} catch (error) {
  process.stderr.write(`token: ${(error as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
