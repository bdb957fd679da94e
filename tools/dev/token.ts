/**
 * `npm run token -- --username alice [--email a@example.com] [--groups admin] [--scope "runway/tasks.write"]`
 * prints an access token that `npm run dev` accepts. Without --username: a machine (client-credentials) token.
 * The same username always gets the same `sub`, so it is the same Runway user across tokens.
 */
import { parseArgs } from 'node:util';
import { DEV_ISSUER_DIR, devUserSub, loadOrCreateSigningKey, mintAccessToken } from './dev-issuer.js';

const { values } = parseArgs({
  options: {
    username: { type: 'string' },
    email: { type: 'string' },
    groups: { type: 'string' },
    scope: { type: 'string' },
    'expires-in': { type: 'string', default: '3600' },
  },
});

process.stdout.write(
  `${mintAccessToken(loadOrCreateSigningKey(DEV_ISSUER_DIR), {
    username: values.username,
    sub: values.username ? devUserSub(values.username) : undefined,
    email: values.email,
    groups: values.groups?.split(',').filter(Boolean),
    scope: values.scope,
    expiresInSeconds: Number(values['expires-in']),
  })}\n`,
);
