/**
 * `npm run token -- --username alice [--email a@example.com] [--groups admin] [--scope "runway/tasks.write"]`
 * prints an access token that `npm run dev` accepts. Without --username: a machine (client-credentials) token.
 * The same username always gets the same `sub`, so it is the same Runway user across tokens.
 */
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DEV_ISSUER_DIR, loadOrCreateSigningKey, mintAccessToken } from './dev-issuer.js';

const { values } = parseArgs({
  options: {
    username: { type: 'string' },
    email: { type: 'string' },
    groups: { type: 'string' },
    scope: { type: 'string' },
    'expires-in': { type: 'string', default: '3600' },
  },
});

const stableSub = (username: string) => {
  const hex = createHash('sha256').update(`runway-dev:${username}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

process.stdout.write(
  `${mintAccessToken(loadOrCreateSigningKey(DEV_ISSUER_DIR), {
    username: values.username,
    sub: values.username ? stableSub(values.username) : undefined,
    email: values.email,
    groups: values.groups?.split(',').filter(Boolean),
    scope: values.scope,
    expiresInSeconds: Number(values['expires-in']),
  })}\n`,
);
