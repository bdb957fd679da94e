import {
  InvalidOutput,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  SFNClient,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import {
  BadRequestException,
  SendEmailCommand,
  SESv2Client,
  type SendEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startAwsEndpoint, type AwsEndpoint } from '../support/aws-endpoint.js';

/**
 * The local AWS endpoint against the real SDK clients, configured only by the SDK's standard variables: what it
 * records, the errors it answers as AWS would, and the SDK's own retries.
 */
describe('the local AWS endpoint, called by the real SDK clients', () => {
  let aws: AwsEndpoint;
  let sfn: SFNClient;
  let ses: SESv2Client;

  beforeAll(async () => {
    aws = await startAwsEndpoint();
    Object.assign(process.env, aws.env());
    sfn = new SFNClient({});
    ses = new SESv2Client({});
  });
  afterAll(async () => {
    sfn.destroy();
    ses.destroy();
    await aws.close();
  });
  beforeEach(() => aws.reset());

  it('records the Step Functions callbacks with their inputs', async () => {
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 'token-1', output: '{"approved":true}' }));
    await sfn.send(
      new SendTaskFailureCommand({ taskToken: 'token-2', error: 'Rejected', cause: 'not in budget' }),
    );
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'token-3' }));

    expect(aws.calls.map(({ service, operation, status }) => [service, operation, status])).toEqual([
      ['sfn', 'SendTaskSuccess', 200],
      ['sfn', 'SendTaskFailure', 200],
      ['sfn', 'SendTaskHeartbeat', 200],
    ]);
    expect(aws.callsOf('SendTaskSuccess')[0]!.input).toEqual({
      taskToken: 'token-1',
      output: '{"approved":true}',
    });
    expect(aws.callsOf('SendTaskFailure')[0]!.input).toEqual({
      taskToken: 'token-2',
      error: 'Rejected',
      cause: 'not in budget',
    });
    expect(aws.calls[0]!.at).toBeInstanceOf(Date);
  });

  it('answers a scripted TaskTimedOut as the SDK error, which the SDK does not retry', async () => {
    aws.failNext('SendTaskSuccess', {
      status: 400,
      type: 'TaskTimedOut',
      message: "Task Timed Out: 'Provided task does not exist anymore'",
    });

    const error = await rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' })));

    expect(error).toBeInstanceOf(TaskTimedOut);
    expect(error).toMatchObject({
      name: 'TaskTimedOut',
      $fault: 'client',
      message: expect.stringContaining('Timed Out'),
    });
    expect((error as TaskTimedOut).$retryable).toBeFalsy();
    expect(aws.calls.map((call) => [call.status, call.error])).toEqual([[400, 'TaskTimedOut']]);
    // The script is used up: the next call succeeds.
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' }));
  });

  it('lets the SDK retry a scripted 500 itself: two attempts of one invocation, the second succeeds', async () => {
    aws.failNext('SendTaskSuccess', { status: 500 });

    await sfn.send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' }));

    const calls = aws.callsOf('SendTaskSuccess');
    expect(calls.map(({ status, attempt }) => [status, attempt])).toEqual([
      [500, 1],
      [200, 2],
    ]);
    expect(calls[1]!.invocationId).toBe(calls[0]!.invocationId);
  });

  it('gives up after the SDK default of 3 attempts', async () => {
    aws.failNext('SendTaskFailure', { status: 503, type: 'ServiceUnavailable' }, 3);

    const error = await rejection(sfn.send(new SendTaskFailureCommand({ taskToken: 't' })));

    expect(error).toMatchObject({
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503, attempts: 3 },
    });
    expect(aws.callsOf('SendTaskFailure')).toHaveLength(3);
  });

  it('refuses a request that is not signed', async () => {
    const response = await fetch(aws.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.SendTaskSuccess',
      },
      body: JSON.stringify({ taskToken: 't', output: '{}' }),
    });

    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({
      __type: expect.stringMatching(/#MissingAuthenticationTokenException$/),
    });
    expect(aws.calls.map((call) => [call.operation, call.status])).toEqual([['SendTaskSuccess', 403]]);
  });

  it('refuses a request signed with another secret', async () => {
    const forger = new SFNClient({
      credentials: { accessKeyId: aws.env().AWS_ACCESS_KEY_ID!, secretAccessKey: 'not-the-secret' },
    });

    const error = await rejection(forger.send(new SendTaskHeartbeatCommand({ taskToken: 't' })));
    forger.destroy();

    expect(error).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
  });

  it('refuses a request changed after it was signed: its body, or the service of its credential scope', async () => {
    const bodyChanged = tamperingClient((request) => {
      request.body = request.body.replace('{\\"a\\":1}', '{\\"a\\":2}');
    });
    const scopeChanged = tamperingClient((request) => {
      request.headers.authorization = request.headers.authorization!.replace('/states/', '/ses/');
    });

    const refusals = await Promise.all([
      rejection(bodyChanged.send(new SendTaskSuccessCommand({ taskToken: 't', output: '{"a":1}' }))),
      rejection(scopeChanged.send(new SendTaskSuccessCommand({ taskToken: 't', output: '{"a":1}' }))),
    ]);
    bodyChanged.destroy();
    scopeChanged.destroy();

    expect(
      aws
        .callsOf('SendTaskSuccess')
        .map((call) => call.input.output)
        .sort(),
    ).toEqual(['{"a":1}', '{"a":2}']);
    expect(refusals).toMatchObject([
      { name: 'InvalidSignatureException', message: expect.stringContaining('x-amz-content-sha256') },
      {
        name: 'InvalidSignatureException',
        message: "Credential should be scoped to correct service: 'states'.",
      },
    ]);
  });

  it('refuses malformed callbacks as Step Functions would', async () => {
    const refusals = await Promise.all([
      rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: 't', output: 'approved' }))),
      rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: '', output: '{}' }))),
      rejection(sfn.send(new SendTaskSuccessCommand({ taskToken: 'x'.repeat(2049), output: '{}' }))),
      rejection(
        sfn.send(
          new SendTaskSuccessCommand({ taskToken: 't', output: JSON.stringify('x'.repeat(256 * 1024)) }),
        ),
      ),
      rejection(sfn.send(new SendTaskFailureCommand({ taskToken: 't', error: 'e'.repeat(257) }))),
      rejection(sfn.send(new SendTaskFailureCommand({ taskToken: 't', cause: 'c'.repeat(32_769) }))),
    ]);

    expect(refusals[0]).toBeInstanceOf(InvalidOutput);
    expect(refusals.slice(1).map((error) => (error as Error).name)).toEqual(
      Array(5).fill('ValidationException'),
    );
    expect(aws.calls.every((call) => call.status === 400)).toBe(true);
  });

  it('round-trips a SendEmail: recipients, subject, text and html', async () => {
    const sent = await ses.send(
      new SendEmailCommand(email({ to: ['alice@example.com', 'Bob <bob@example.com>'] })),
    );

    expect(sent.MessageId).toMatch(/\S+/);
    expect(aws.calls.map(({ service, operation }) => [service, operation])).toEqual([['sesv2', 'SendEmail']]);
    expect(aws.emails()).toEqual([
      {
        from: 'Runway <noreply@runway.example>',
        to: ['alice@example.com', 'Bob <bob@example.com>'],
        cc: [],
        bcc: [],
        subject: 'A task waits for you',
        text: 'Open https://runway.example/tasks/1',
        html: '<p>Open <a href="https://runway.example/tasks/1">the task</a></p>',
      },
    ]);
  });

  it('refuses a SendEmail with no recipient and keeps it out of the sent emails', async () => {
    const error = await rejection(ses.send(new SendEmailCommand(email({ to: [] }))));

    expect(error).toBeInstanceOf(BadRequestException);
    expect(aws.emails()).toEqual([]);
    expect(aws.callsOf('SendEmail')[0]).toMatchObject({ status: 400, error: 'BadRequestException' });
  });

  it('waits for calls made in the background', async () => {
    const later = setTimeout(() => void sfn.send(new SendTaskHeartbeatCommand({ taskToken: 'late' })), 100);

    const [call] = await aws.waitFor('SendTaskHeartbeat');

    clearTimeout(later);
    expect(call!.input.taskToken).toBe('late');
    await expect(aws.waitFor('SendEmail', 200)).rejects.toThrow(/received: SendTaskHeartbeat 200/);
  });
});

function email({ to }: { to: string[] }): SendEmailCommandInput {
  return {
    FromEmailAddress: 'Runway <noreply@runway.example>',
    Destination: { ToAddresses: to },
    Content: {
      Simple: {
        Subject: { Data: 'A task waits for you' },
        Body: {
          Text: { Data: 'Open https://runway.example/tasks/1' },
          Html: { Data: '<p>Open <a href="https://runway.example/tasks/1">the task</a></p>' },
        },
      },
    },
  };
}

interface SignedRequest {
  body: string;
  headers: Record<string, string | undefined>;
}
type Handler = (args: { request: SignedRequest }) => Promise<unknown>;
type Middleware = Parameters<SFNClient['middlewareStack']['addRelativeTo']>[0];

/** An SFN client whose requests `change` after the SDK signed them. */
function tamperingClient(change: (request: SignedRequest) => void): SFNClient {
  const tamper =
    (next: Handler): Handler =>
    (args) => {
      // The SDK serializes JSON to bytes that warn when read as a string.
      args.request.body = new TextDecoder().decode(args.request.body as unknown as Uint8Array);
      change(args.request);
      return next(args);
    };
  const client = new SFNClient({});
  client.middlewareStack.addRelativeTo(tamper as unknown as Middleware, {
    relation: 'after',
    toMiddleware: 'httpSigningMiddleware',
  });
  return client;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (error: unknown) => error,
  );
}
