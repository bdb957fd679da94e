import { afterAll, beforeAll } from 'vitest';
import { SCOPES } from '../../src/auth/scopes.js';
import type { TestApp } from './app.js';
import { startAwsEndpoint, type AwsEndpoint, type SentEmail } from './aws-endpoint.js';
import { machine, user } from './tokens.js';

export const OPERATORS = ['ops@example.com', 'founder@example.com'];

/** Environment of a test app whose emails go through SES v2 (the local endpoint) to OPERATORS. */
export const TASKS_ENV = {
  MAIL_TRANSPORT: 'ses',
  MAIL_FROM: 'tasks@example.com',
  TASKS_NOTIFY_EMAILS: OPERATORS.join(','),
};

/**
 * Starts a local AWS endpoint for this test file and points the SDK at it through its standard variables. Call before
 * `useTestApp` so that the endpoint exists when the app starts.
 */
export function useAwsEndpoint(): { readonly aws: AwsEndpoint } {
  let aws: AwsEndpoint | undefined;
  beforeAll(async () => {
    aws = await startAwsEndpoint();
    Object.assign(process.env, aws.env());
  });
  afterAll(() => aws?.close());
  return {
    get aws() {
      if (!aws) throw new Error('useAwsEndpoint: available from beforeAll on');
      return aws;
    },
  };
}

export const admin = () =>
  user({ groups: ['admin'], email: `admin-${Math.random().toString(36).slice(2, 8)}@example.com` });
export const workflow = () => machine(`${SCOPES.tasksWrite} ${SCOPES.tasksRead}`);

export interface CreatedTask {
  id: string;
  version: number;
  etag: string;
  status: string;
  [field: string]: unknown;
}

/** Creates a task through the API as `caller` (a workflow by default). */
export async function createTask(
  t: TestApp,
  fields: Record<string, unknown> = {},
  caller: { authorization: string } = workflow(),
): Promise<CreatedTask> {
  const response = await t
    .http()
    .post('/v1/tasks')
    .set('authorization', caller.authorization)
    .send({
      type: 'approval',
      title: 'Approve the refund',
      payload: { orderId: 'o-1', amount: 42 },
      ...fields,
    });
  if (response.status !== 201)
    throw new Error(`POST /v1/tasks: ${response.status} ${JSON.stringify(response.body)}`);
  return { ...(response.body as CreatedTask), etag: response.headers.etag as string };
}

/** The decision link of an email: the path `/t/<token>` and the token. */
export function linkOf(email: SentEmail): { path: string; token: string } {
  const match = /\/t\/([A-Za-z0-9_-]+)/.exec(email.text ?? '');
  if (!match) throw new Error(`no link in ${email.text}`);
  return { path: match[0], token: match[1]! };
}
