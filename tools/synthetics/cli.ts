/**
 * `npm run synthetics --silent -- --base-url https://api.example.com --token <access token>`
 * or, instead of --token, Cognito credentials (USER_PASSWORD_AUTH):
 *   --client-id <app client> --username <user> --password <password> [--cognito-endpoint URL | --region eu-west-1]
 *   (or --credentials-env VAR: username and password from the JSON in that variable, e.g. an injected secret)
 * Walks the critical journey (./journey.ts), prints one summary line, exits 1 on any failure; with
 * --min-runtime-seconds N, no sooner than N seconds after it started (a one-off task: src/utils/one-off-task.ts).
 */
import { parseArgs } from 'node:util';
import { lingerFrom, MIN_RUNTIME_OPTION, minRuntimeMs } from '../../src/utils/one-off-task.js';
import { credentials, signIn } from './canary.js';
import { runJourney, summarize } from './journey.js';

const USAGE = `usage: npm run synthetics --silent -- --base-url URL (--token T | --client-id ID (--username U --password P | --credentials-env VAR) [--cognito-endpoint URL | --region R]) [--min-runtime-seconds N]`;

function options() {
  return parseArgs({
    options: {
      help: { type: 'boolean' },
      'base-url': { type: 'string' },
      token: { type: 'string' },
      'client-id': { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      'credentials-env': { type: 'string' },
      region: { type: 'string', default: process.env.AWS_REGION ?? 'eu-west-1' },
      'cognito-endpoint': { type: 'string' },
      ...MIN_RUNTIME_OPTION,
    },
  }).values;
}

async function token(values: ReturnType<typeof options>): Promise<string> {
  if (values.token) return values.token;
  const { username, password } = values['credentials-env']
    ? credentials(process.env[values['credentials-env']] ?? '')
    : values;
  if (!values['client-id'] || !username || !password) {
    throw new Error('give --token, or --client-id with --username and --password (or --credentials-env)');
  }
  return signIn({
    endpoint: values['cognito-endpoint'] ?? `https://cognito-idp.${values.region}.amazonaws.com/`,
    clientId: values['client-id'],
    username,
    password,
  });
}

const startedAt = performance.now();

async function main(): Promise<number> {
  const values = options();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values['base-url']) throw new Error('--base-url is required');
  const minimumMs = minRuntimeMs(values['min-runtime-seconds']);
  try {
    const result = await runJourney({ baseUrl: values['base-url'], token: await token(values) });
    process.stdout.write(`${summarize(result)}\n`);
    return result.ok ? 0 : 1;
  } finally {
    await lingerFrom(startedAt, minimumMs);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`synthetics: FAIL ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
