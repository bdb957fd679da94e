/**
 * `npm run synthetics --silent -- --base-url https://api.example.com --token <access token>`
 * or, instead of --token, Cognito credentials (USER_PASSWORD_AUTH):
 *   --client-id <app client> --username <user> --password <password> [--cognito-endpoint URL | --region eu-west-1]
 *   (or --credentials-env VAR: username and password from the JSON in that variable, e.g. an injected secret)
 * Walks the critical journey (./journey.ts), prints one summary line, exits 1 on any failure.
 */
import { parseArgs } from 'node:util';
import { signIn } from './canary.js';
import { runJourney, summarize } from './journey.js';

const { values } = parseArgs({
  options: {
    'base-url': { type: 'string' },
    token: { type: 'string' },
    'client-id': { type: 'string' },
    username: { type: 'string' },
    password: { type: 'string' },
    'credentials-env': { type: 'string' },
    region: { type: 'string', default: process.env.AWS_REGION ?? 'eu-west-1' },
    'cognito-endpoint': { type: 'string' },
  },
});

async function token(): Promise<string> {
  if (values.token) return values.token;
  if (values['credentials-env']) {
    const { username, password } = JSON.parse(process.env[values['credentials-env']] ?? '{}') as Record<
      string,
      string | undefined
    >;
    Object.assign(values, { username, password });
  }
  if (!values['client-id'] || !values.username || !values.password) {
    throw new Error('give --token, or --client-id with --username and --password (or --credentials-env)');
  }
  return signIn({
    endpoint: values['cognito-endpoint'] ?? `https://cognito-idp.${values.region}.amazonaws.com/`,
    clientId: values['client-id'],
    username: values.username,
    password: values.password,
  });
}

async function main(): Promise<number> {
  if (!values['base-url']) throw new Error('--base-url is required');
  const result = await runJourney({ baseUrl: values['base-url'], token: await token() });
  process.stdout.write(`${summarize(result)}\n`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`synthetics: FAIL ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
