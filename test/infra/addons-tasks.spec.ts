/**
 * Manual tasks on AWS, what cfn-lint cannot see: the api's secrets reach the app under the names it reads and its
 * policy grants exactly what answering tasks and emailing needs (copilot/api/addons/tasks.yml), and the example
 * workflow (copilot/environments/addons/tasks-workflow.yml) is off by default and, once on, really connects: the
 * state machine's event reaches the rule, the rule calls POST /v1/tasks with the body and headers the API expects,
 * signed in with a client and scope Cognito will grant, and undelivered requests are kept and noticed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SCOPES } from '../../src/auth/scopes.js';
import { VARIABLES } from '../../src/config/config.js';
import { IDEMPOTENCY_TTL_HOURS } from '../../src/http/idempotency/idempotency.service.js';
import { loadTemplate, mergeAddons, type Template } from '../../tools/deploy/addons.js';
import {
  ACCOUNT,
  API_ADDONS,
  APP,
  apiEvaluator,
  ENVIRONMENT_ADDONS,
  environmentAddons,
  ENVIRONMENTS,
  Evaluator,
  interpolate,
  literalParameters,
  REGION,
  sameJson,
  type Env,
  type Values,
} from '../support/cloudformation.js';
import { ROOT } from '../support/process.js';
import { injectedOutputs } from './copilot-outputs.js';

/**
 * Template values are read structurally: any path may be missing or of the wrong type, and the checks turn that into
 * a problem rather than a type error.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
type Resource = Loose;
type Stack = { resources: Record<string, Resource>; outputs: Record<string, Loose> };
type Check = (ok: unknown, problem: string) => void;

const API_BASE_URL = 'https://api.example.com';
const WORKFLOW_FILE = join(ENVIRONMENT_ADDONS, 'tasks-workflow.yml');
const WORKFLOW_CONDITION = 'TasksWorkflowEnabled';
const ref = (id: string) => ({ Ref: id });
const getAtt = (id: string, attribute: string) => ({ 'Fn::GetAtt': [id, attribute] });
/** The logical id a `Ref` (or, given an attribute, a `Fn::GetAtt` of that attribute) names. */
function idOf(value: Loose, attribute?: string): string | undefined {
  if (!attribute) return typeof value?.Ref === 'string' ? value.Ref : undefined;
  const [id, named] = value?.['Fn::GetAtt'] ?? [];
  return named === attribute ? id : undefined;
}

function collector(): { problems: string[]; check: Check } {
  const problems: string[] = [];
  return { problems, check: (ok, problem) => void (ok || problems.push(problem)) };
}

function only(stack: Stack, type: string, check: Check): [string, Resource] | undefined {
  const found = Object.entries(stack.resources).filter(([, resource]) => resource.Type === type);
  check(found.length === 1, `exactly one ${type}`);
  return found.length === 1 ? found[0] : undefined;
}

/** The Allow statements of an IAM role's inline policies, and whether `service` may assume it. */
function role(stack: Stack, arn: Loose, service: string, check: Check, what: string): Loose[] {
  const role = stack.resources[idOf(arn, 'Arn') ?? ''];
  check(role?.Type === 'AWS::IAM::Role', `${what} runs as a role of the stack`);
  const trust = role?.Properties.AssumeRolePolicyDocument?.Statement ?? [];
  check(
    trust.some(
      (s: Loose) => s.Effect === 'Allow' && s.Principal?.Service === service && s.Action === 'sts:AssumeRole',
    ),
    `${what}'s role trusts ${service}`,
  );
  return (role?.Properties.Policies ?? []).flatMap((policy: Loose) =>
    (policy.PolicyDocument?.Statement ?? []).filter((s: Loose) => s.Effect === 'Allow'),
  );
}

const allows = (statements: Loose[], action: string, resource: unknown) =>
  statements.some(
    (s) => [s.Action].flat().includes(action) && [s.Resource].flat().some((r) => sameJson(r, resource)),
  );

// ---------------------------------------------------------------------------------------------------------------
// The api workload: secrets, permissions, manifest.

interface ServiceManifest {
  variables: Record<string, unknown>;
  environments: Record<string, { variables?: Record<string, unknown> } | undefined>;
}

function manifestVariables(env: Env): Record<string, unknown> {
  const manifest = parse(
    interpolate(readFileSync(join(ROOT, 'copilot', 'api', 'manifest.yml'), 'utf8'), env),
  ) as ServiceManifest;
  return { ...manifest.variables, ...manifest.environments[env]?.variables };
}

const AGREED_SECRETS = { TASK_LINK_SECRET: 'Delete', TASK_TOKEN_KEY: 'Retain' } as const;

function apiProblems(template: Template, env: Env, sesIdentity: string): string[] {
  const { problems, check } = collector();
  const evaluator = apiEvaluator(template, env);
  const injected = injectedOutputs(template);

  for (const [name, policy] of Object.entries(AGREED_SECRETS)) {
    const output = injected.find((entry) => entry.name === name);
    check(output?.kind === 'secret', `an output Copilot injects as the secret ${name} (a !Ref of a secret)`);
    check((VARIABLES as string[]).includes(name), `the app reads ${name}`);
    const secret: Resource = template.Resources[output?.ref ?? ''];
    if (!secret) continue;
    const generated = secret.Properties?.GenerateSecretString ?? {};
    // The app wants 32 characters or more; changing these values would make CloudFormation generate a new secret.
    check(
      sameJson(generated, { PasswordLength: 64, ExcludePunctuation: true }),
      `${name}: 64 generated characters without punctuation, as plain text`,
    );
    check(secret.Properties?.SecretString === undefined, `${name}: generated, never written in the template`);
    check(
      secret.DeletionPolicy === policy && secret.UpdateReplacePolicy === policy,
      `${name}: DeletionPolicy and UpdateReplacePolicy ${policy}`,
    );
  }

  const attached = injected.filter((entry) => entry.kind === 'policy');
  const statements = attached.flatMap(
    ({ ref }) =>
      (evaluator.resolve(template.Resources[ref!]?.Properties?.PolicyDocument) as Loose)?.Statement ?? [],
  );
  const grants = (prefix: string) =>
    statements
      .filter((s: Loose) => [s.Action].flat().some((action: string) => action.startsWith(prefix)))
      .flatMap((s: Loose) =>
        [s.Action]
          .flat()
          .flatMap((action: string) =>
            [s.Resource]
              .flat()
              .map(
                (resource) =>
                  `${s.Effect} ${action} ${String(resource)}${s.Condition ? ' (conditional)' : ''}`,
              ),
          ),
      )
      .sort();
  check(
    sameJson(grants('states:'), ['Allow states:SendTaskFailure *', 'Allow states:SendTaskSuccess *']),
    'the task role may SendTaskSuccess and SendTaskFailure (no resource-level control exists), nothing else of Step Functions',
  );
  check(
    sameJson(grants('ses:'), [
      `Allow ses:SendEmail arn:aws:ses:${REGION}:${ACCOUNT}:identity/* (conditional)`,
      `Allow ses:SendEmail arn:aws:ses:${REGION}:${ACCOUNT}:identity/${sesIdentity}`,
    ]) &&
      statements
        .filter((s: Loose) => s.Condition && [s.Action].flat().includes('ses:SendEmail'))
        .every((s: Loose) =>
          sameJson(s.Condition, { StringLike: { 'ses:FromAddress': [sesIdentity, `*@${sesIdentity}`] } }),
        ),
    'the task role may ses:SendEmail from the SES identity only (to any verified identity, for the sandbox)',
  );

  const variables = manifestVariables(env);
  check(variables.MAIL_TRANSPORT === 'ses', 'MAIL_TRANSPORT is ses');
  const from = String(variables.MAIL_FROM);
  check(
    sesIdentity.includes('@') ? from === sesIdentity : from.endsWith(`@${sesIdentity}`),
    `MAIL_FROM (${from}) belongs to the SES identity ${sesIdentity}`,
  );
  check(/^https:\/\/[^/]+/.test(String(variables.PUBLIC_BASE_URL)), 'PUBLIC_BASE_URL is an https URL');
  const operators = variables.TASKS_NOTIFY_EMAILS;
  check(typeof operators === 'string' && operators.includes('@'), 'TASKS_NOTIFY_EMAILS names operators');
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// The environment's example workflow.

function environmentStack(template: Template, env: Env, parameters: Values = {}): Stack {
  const { Resources, Outputs } = new Evaluator(template, {
    App: APP,
    Env: env,
    VpcId: 'vpc-0123456789abcdef0',
    PrivateSubnets: 'subnet-0aaa,subnet-0bbb',
    ...literalParameters(ENVIRONMENT_ADDONS),
    ...parameters,
  }).instantiate();
  return { resources: Resources as Record<string, Resource>, outputs: Outputs ?? {} };
}

/** Every `Next` and `Default` of the states, and the states reachable from StartAt. */
function graphProblems(definition: Loose, check: Check): void {
  const states = (definition?.States ?? {}) as Record<string, Loose>;
  const targets = (state: Loose): string[] => [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).map((choice: Loose) => choice.Next),
    ...(state.Catch ?? []).map((catcher: Loose) => catcher.Next),
  ];
  for (const [name, state] of Object.entries(states)) {
    for (const target of targets(state))
      check(target in states, `${name} goes to ${String(target)}, a state that exists`);
    const terminal = ['Succeed', 'Fail', 'Choice'].includes(state.Type) || state.End === true;
    check(terminal || state.Next, `${name} has Next or End`);
  }
  const reached = new Set<string>();
  const visit = (name: string) => {
    if (reached.has(name) || !(name in states)) return;
    reached.add(name);
    targets(states[name]).forEach(visit);
  };
  check(definition?.StartAt in states, 'StartAt names a state');
  visit(definition?.StartAt);
  for (const name of Object.keys(states)) check(reached.has(name), `${name} is reachable`);
}

/** Sample execution input, and what the detail's fields become from it. */
const SAMPLE_INPUT = {
  title: 'Refund order 42',
  payload: { orderId: 42, amount: '19.90' },
  expiresAt: '2026-12-05T12:00:00Z',
};
const SAMPLE_TOKEN = 'AQCEAAAAKgAAAAMAAAAA-sample-token';
function detailValue(source: unknown): unknown {
  if (source === '$$.Task.Token') return SAMPLE_TOKEN;
  const field = /^\$\.(\w+)$/.exec(String(source))?.[1];
  return field ? SAMPLE_INPUT[field as keyof typeof SAMPLE_INPUT] : undefined;
}

function workflowProblems(template: Template, env: Env): string[] {
  const { problems, check } = collector();
  const stack = environmentStack(template, env, { ApiBaseUrl: API_BASE_URL });
  const resources = stack.resources;

  // The state machine and its wait for a human.
  const [machineId, machine] = only(stack, 'AWS::StepFunctions::StateMachine', check) ?? [];
  const definition = machine?.Properties.Definition;
  check(
    definition && typeof definition === 'object',
    'Definition is an object (cfn-lint validates its states)',
  );
  check(machine?.Properties.StateMachineType === 'STANDARD', 'a STANDARD state machine (callbacks need it)');
  graphProblems(definition, check);
  const states = Object.entries((definition?.States ?? {}) as Record<string, Loose>);
  const waits = states.filter(([, state]) => String(state.Resource).endsWith('.waitForTaskToken'));
  check(waits.length === 1, 'one state waits for a task token');
  const [waitName, wait] = waits[0] ?? ['', {}];
  check(
    wait.Resource === 'arn:aws:states:::events:putEvents.waitForTaskToken',
    'the wait puts an event with events:putEvents.waitForTaskToken',
  );
  const entries = wait.Parameters?.Entries ?? [];
  check(entries.length === 1, 'the wait puts one event');
  const entry = entries[0] ?? {};
  const detail = (entry.Detail ?? {}) as Record<string, unknown>;
  const fieldHolding = (source: string) =>
    Object.entries(detail)
      .find(([key, value]) => key.endsWith('.$') && value === source)?.[0]
      .slice(0, -2);
  const tokenField = fieldHolding('$$.Task.Token');
  check(tokenField, "the event's detail carries the task token ($$.Task.Token)");
  check(
    fieldHolding('$.title') && fieldHolding('$.payload'),
    "the detail carries the input's title and payload",
  );
  check(
    wait.HeartbeatSeconds === undefined,
    'no HeartbeatSeconds: nothing sends heartbeats while a task is open',
  );
  const timeout = Number(wait.TimeoutSeconds);
  check(timeout >= 86_400 && timeout <= 30 * 86_400, 'the wait times out after 1 to 30 days');
  check(
    definition?.TimeoutSeconds === undefined || definition.TimeoutSeconds > timeout,
    "the execution's own timeout leaves room for the wait's",
  );
  const handlers = [...(wait.Retry ?? []), ...(wait.Catch ?? [])].flatMap(
    (handler: Loose) => handler.ErrorEquals,
  );
  check(
    !handlers.some((error: string) => ['States.ALL', 'States.TaskFailed'].includes(error)),
    "no catch-all on the wait: it would retry or hide an operator's rejection",
  );
  check(
    (wait.Retry ?? []).every((retrier: Loose) =>
      retrier.ErrorEquals.every((error: string) => error.startsWith('EventBridge.')),
    ),
    'the wait only retries failures to put the event',
  );
  const byName = Object.fromEntries(states);
  for (const error of ['Runway.Rejected', 'Runway.Cancelled', 'Runway.Expired']) {
    const catcher = (wait.Catch ?? []).find((c: Loose) => c.ErrorEquals.includes(error));
    check(
      !catcher || (byName[catcher.Next]?.Type === 'Fail' && byName[catcher.Next]?.Error === error),
      `${error} ends the execution as a failure named ${error}`,
    );
  }
  const decision = String(wait.ResultPath ?? '$');
  const choice = byName[wait.Next];
  const approved = (choice?.Choices ?? []).find(
    (rule: Loose) => rule.Variable === `${decision}.outcome` && rule.StringEquals === 'approved',
  );
  check(
    choice?.Type === 'Choice' &&
      byName[approved?.Next]?.Type === 'Succeed' &&
      byName[choice.Default]?.Type === 'Fail',
    `after ${waitName}, an "approved" outcome succeeds and anything else fails`,
  );

  // The bus the event goes to, and who may put it there.
  const busName = /^\$\{(\w+)\}$/.exec(String(entry.EventBusName))?.[1];
  const busRef = busName ? machine?.Properties.DefinitionSubstitutions?.[busName] : undefined;
  const busId = idOf(busRef);
  check(
    resources[busId ?? '']?.Type === 'AWS::Events::EventBus',
    'the event goes to the custom bus of the stack',
  );
  const machineGrants = role(
    stack,
    machine?.Properties.RoleArn,
    'states.amazonaws.com',
    check,
    'the state machine',
  );
  check(
    allows(machineGrants, 'events:PutEvents', getAtt(busId ?? '', 'Arn')),
    'the state machine may put events on the bus',
  );

  // The rule: the event reaches it, and it calls the API destination.
  const rules = Object.entries(resources).filter(
    ([, r]) => r.Type === 'AWS::Events::Rule' && sameJson(r.Properties.EventBusName, ref(busId ?? '')),
  );
  check(rules.length === 1, 'one rule on the bus');
  const [ruleId, rule] = rules[0] ?? ['', { Properties: {} }];
  const pattern = rule.Properties.EventPattern ?? {};
  check(
    (pattern.source ?? []).includes(entry.Source) &&
      (pattern['detail-type'] ?? []).includes(entry.DetailType),
    "the rule's pattern matches the state machine's event (source and detail-type)",
  );
  check(rule.Properties.State === 'ENABLED', 'the rule is enabled');
  const targets = rule.Properties.Targets ?? [];
  check(targets.length === 1, 'the rule has one target');
  const target = targets[0] ?? {};
  const destinationId = idOf(target.Arn, 'Arn') ?? '';
  const destination = resources[destinationId];
  check(destination?.Type === 'AWS::Events::ApiDestination', 'the rule targets the API destination');
  const ruleGrants = role(stack, target.RoleArn, 'events.amazonaws.com', check, 'the rule');
  check(
    allows(ruleGrants, 'events:InvokeApiDestination', getAtt(destinationId, 'Arn')),
    'the rule may invoke the API destination',
  );

  // Delivery: retried while the API's idempotency keys last, then kept in a dead-letter queue that is watched.
  const retry = target.RetryPolicy ?? {};
  check(retry.MaximumRetryAttempts > 0, 'the rule retries failed deliveries');
  check(
    retry.MaximumEventAgeInSeconds > 0 && retry.MaximumEventAgeInSeconds <= IDEMPOTENCY_TTL_HOURS * 3600,
    'deliveries are retried for no longer than the API keeps idempotency keys',
  );
  const queueId = idOf(target.DeadLetterConfig?.Arn, 'Arn') ?? '';
  const queue = resources[queueId];
  check(queue?.Type === 'AWS::SQS::Queue', 'undelivered events go to a dead-letter queue');
  check(
    queue?.Properties.KmsMasterKeyId === undefined,
    'the queue is not under a KMS key EventBridge may not use (SSE-SQS works)',
  );
  check(queue?.Properties.MessageRetentionPeriod >= 7 * 86_400, 'undelivered events are kept a week or more');
  const queuePolicies = Object.values(resources).filter(
    (r) =>
      r.Type === 'AWS::SQS::QueuePolicy' &&
      (r.Properties.Queues ?? []).some((q: Loose) => sameJson(q, ref(queueId))),
  );
  check(
    queuePolicies.some((policy) =>
      (policy.Properties.PolicyDocument?.Statement ?? []).some(
        (s: Loose) =>
          s.Effect === 'Allow' &&
          s.Principal?.Service === 'events.amazonaws.com' &&
          [s.Action].flat().includes('sqs:SendMessage') &&
          sameJson(s.Resource, getAtt(queueId, 'Arn')) &&
          sameJson(s.Condition?.ArnEquals?.['aws:SourceArn'], getAtt(ruleId, 'Arn')),
      ),
    ),
    'the queue policy lets this rule (only) send to the queue',
  );
  check(
    Object.values(resources).some(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties.Namespace === 'AWS/SQS' &&
        sameJson(r.Properties.Dimensions, [{ Name: 'QueueName', Value: getAtt(queueId, 'QueueName') }]) &&
        (r.Properties.AlarmActions ?? []).length > 0,
    ),
    'an alarm with an action watches the dead-letter queue',
  );

  // The request: POST /v1/tasks, an idempotency key from the event, the body the API expects.
  check(destination?.Properties.HttpMethod === 'POST', 'the API destination POSTs');
  check(
    destination?.Properties.InvocationEndpoint === `${API_BASE_URL}/v1/tasks`,
    'the API destination calls <ApiBaseUrl>/v1/tasks',
  );
  const keyPath = String(target.HttpParameters?.HeaderParameters?.['Idempotency-Key']);
  const keyField = /^\$\.detail\.(\w+)$/.exec(keyPath)?.[1];
  check(
    keyPath === '$.id' || (keyField && `${keyField}.$` in detail),
    'the Idempotency-Key header is a JSON path to a value the event carries',
  );
  const transformer = target.InputTransformer ?? {};
  let body: unknown;
  try {
    const template = String(transformer.InputTemplate).replace(/<(\w+)>/g, (_, name: string) => {
      const field = /^\$\.detail\.(\w+)$/.exec(String(transformer.InputPathsMap?.[name]))?.[1];
      const value = field ? detailValue(detail[`${field}.$`]) : undefined;
      if (value === undefined) throw new Error(`<${name}> is not a field of the event's detail`);
      return JSON.stringify(value);
    });
    body = JSON.parse(template);
  } catch (error) {
    check(false, `the input transformer makes a JSON body (${(error as Error).message})`);
  }
  check(
    body === undefined ||
      sameJson(body, {
        type: 'approval',
        title: SAMPLE_INPUT.title,
        payload: SAMPLE_INPUT.payload,
        expiresAt: SAMPLE_INPUT.expiresAt,
        taskToken: SAMPLE_TOKEN,
      }),
    'the body is {"type":"approval","title","payload","expiresAt","taskToken"} from the execution',
  );

  // Sign-in: client credentials at the user pool domain's token endpoint, for a client the API accepts.
  const connectionId = idOf(destination?.Properties.ConnectionArn, 'Arn') ?? '';
  const connection = resources[connectionId]?.Properties ?? {};
  const oauth = connection.AuthParameters?.OAuthParameters ?? {};
  check(
    connection.AuthorizationType === 'OAUTH_CLIENT_CREDENTIALS',
    'the connection uses OAuth client credentials',
  );
  const domain = stack.outputs.CognitoDomain?.Value?.['Fn::Sub'];
  check(
    domain && sameJson(oauth.AuthorizationEndpoint, { 'Fn::Sub': `https://${domain}/oauth2/token` }),
    "the connection asks the user pool domain's token endpoint",
  );
  check(oauth.HttpMethod === 'POST', 'the token request is a POST');
  const clientId = idOf(oauth.ClientParameters?.ClientID) ?? '';
  const client = resources[clientId]?.Properties ?? {};
  check(
    resources[clientId]?.Type === 'AWS::Cognito::UserPoolClient' &&
      sameJson(oauth.ClientParameters?.ClientSecret, getAtt(clientId, 'ClientSecret')),
    "the connection signs in with a user pool client's id and secret",
  );
  check(
    client.GenerateSecret === true && (client.AllowedOAuthFlows ?? []).includes('client_credentials'),
    'that client may use the client-credentials grant',
  );
  const tokenRequest = Object.fromEntries(
    (oauth.OAuthHttpParameters?.BodyParameters ?? []).map((p: Loose) => [p.Key, p.Value]),
  );
  check(
    tokenRequest.grant_type === 'client_credentials',
    'the token request says grant_type=client_credentials',
  );
  check(tokenRequest.scope === SCOPES.tasksWrite, `the token request asks for ${SCOPES.tasksWrite} only`);
  check(
    (client.AllowedOAuthScopes ?? []).includes(tokenRequest.scope),
    'the client may be granted that scope',
  );
  check(
    JSON.stringify(stack.outputs.AppClientIds?.Value ?? '').includes(JSON.stringify(ref(clientId))),
    "the API accepts the client's tokens (AppClientIds)",
  );

  const prefix = `${APP}-${env}-`;
  for (const [id, output] of Object.entries(stack.outputs)) {
    if (output.Export) check(output.Export.Name === `${prefix}${id}`, `export of ${id} named ${prefix}${id}`);
  }
  check(machineId && stack.outputs.TasksStateMachineArn, 'the state machine ARN is exported');
  return problems;
}

/** Resources and outputs of tasks-workflow.yml that exist when the stack is deployed with `parameters`. */
function workflowPartsCreated(template: Template, env: Env, parameters: Values = {}): string[] {
  const own = loadTemplate(WORKFLOW_FILE);
  const stack = environmentStack(template, env, parameters);
  return [
    ...Object.keys(own.Resources).filter((id) => id in stack.resources),
    ...Object.keys(own.Outputs ?? {}).filter((id) => id in stack.outputs),
  ];
}

// ---------------------------------------------------------------------------------------------------------------

const api = mergeAddons(API_ADDONS);
const sesIdentity = String(literalParameters(API_ADDONS).SesIdentity);

describe('manual tasks: the api workload', () => {
  it.each(ENVIRONMENTS)('gives the app its secrets, permissions and settings in %s', (env) => {
    expect(apiProblems(api, env, sesIdentity)).toEqual([]);
  });

  it('injects exactly TASK_LINK_SECRET and TASK_TOKEN_KEY from the tasks secrets', () => {
    const secrets = injectedOutputs(api).filter(({ kind }) => kind === 'secret');
    expect(secrets.map(({ name }) => name).sort()).toEqual(Object.keys(AGREED_SECRETS).sort());
  });

  it('takes a domain or an address as SesIdentity', () => {
    const pattern = new RegExp(api.Parameters!.SesIdentity!.AllowedPattern as string);
    for (const good of ['example.com', 'mail.example.co.uk', 'runway@example.com'])
      expect(good).toMatch(pattern);
    for (const bad of ['', 'arn:aws:ses:eu-west-1:123456789012:identity/example.com', 'example']) {
      expect(bad).not.toMatch(pattern);
    }
  });

  describe('catches a broken copy', () => {
    const resource = (t: Template, id: string) => t.Resources[id]!.Properties as Loose;
    const statement = (t: Template, sid: string) =>
      resource(t, 'TasksPolicy').PolicyDocument.Statement.find((s: Loose) => s.Sid === sid);
    const mutations: [string, (t: Template) => void, RegExp][] = [
      [
        'a secret output that is not a !Ref',
        (t) => (t.Outputs!.TaskLinkSecret!.Value = getAtt('TaskLinkSecret', 'Id')),
        /secret TASK_LINK_SECRET/,
      ],
      [
        'a renamed output',
        (t) => {
          t.Outputs!.TokenKey = t.Outputs!.TaskTokenKey!;
          delete t.Outputs!.TaskTokenKey;
        },
        /secret TASK_TOKEN_KEY/,
      ],
      [
        'a short secret',
        (t) => (resource(t, 'TaskTokenKey').GenerateSecretString.PasswordLength = 16),
        /64 generated/,
      ],
      [
        'a token key deleted with the stack',
        (t) => (t.Resources.TaskTokenKey!.DeletionPolicy = 'Delete'),
        /Retain/,
      ],
      [
        'a wider Step Functions grant',
        (t) => (statement(t, 'AnswerTaskTokens').Action = 'states:*'),
        /SendTaskSuccess/,
      ],
      [
        'sending from any identity',
        (t) => (statement(t, 'SendEmailFromIdentity').Resource = '*'),
        /SES identity only/,
      ],
      [
        'sending to other identities from any address',
        (t) => delete statement(t, 'SendEmailToVerifiedRecipients').Condition,
        /SES identity only/,
      ],
      ['the policy not attached', (t) => delete t.Outputs!.TasksPolicy, /SendTaskSuccess[\s\S]*SES identity/],
    ];
    it.each(mutations)('%s', (_name, mutate, problem) => {
      const broken = structuredClone(api);
      mutate(broken);
      expect(apiProblems(broken, 'test', sesIdentity).join('\n')).toMatch(problem);
    });

    it('a sender outside the SES identity', () => {
      expect(apiProblems(api, 'prod', 'other.example.org').join('\n')).toMatch(/MAIL_FROM .* belongs to/);
    });
  });
});

describe('manual tasks: the example workflow', () => {
  const env = environmentAddons;

  it.each(ENVIRONMENTS)('is off by default and entirely on with ApiBaseUrl in %s', (name) => {
    const own = loadTemplate(WORKFLOW_FILE);
    const parts = [...Object.keys(own.Resources), ...Object.keys(own.Outputs ?? {})];
    expect(parts.length).toBeGreaterThan(0);
    const conditions = [...Object.values(own.Resources), ...Object.values(own.Outputs ?? {})].map(
      (part) => (part as { Condition?: unknown }).Condition,
    );
    expect(new Set(conditions)).toEqual(new Set([WORKFLOW_CONDITION]));
    expect(env.Parameters!.ApiBaseUrl!.Default).toBe('');
    expect(workflowPartsCreated(env, name)).toEqual([]);
    expect(workflowPartsCreated(env, name, { ApiBaseUrl: API_BASE_URL }).sort()).toEqual([...parts].sort());
  });

  it('takes an https ApiBaseUrl without a trailing slash, or nothing', () => {
    const pattern = new RegExp(env.Parameters!.ApiBaseUrl!.AllowedPattern as string);
    for (const good of ['', 'https://api.example.com', 'https://example.com:8443/runway'])
      expect(good).toMatch(pattern);
    for (const bad of ['http://api.example.com', 'https://api.example.com/', 'api.example.com']) {
      expect(bad).not.toMatch(pattern);
    }
  });

  it.each(ENVIRONMENTS)('connects the state machine to POST /v1/tasks and back in %s', (name) => {
    expect(workflowProblems(env, name)).toEqual([]);
  });

  describe('catches a broken copy', () => {
    const resource = (t: Template, id: string) => t.Resources[id]!.Properties as Loose;
    const states = (t: Template) => resource(t, 'TasksStateMachine').Definition.States;
    const wait = (t: Template) => states(t).RequestApproval;
    const target = (t: Template) => resource(t, 'TasksRule').Targets[0];
    const mutations: [string, (t: Template) => void, RegExp][] = [
      [
        'a wait without the callback pattern',
        (t) => (wait(t).Resource = 'arn:aws:states:::events:putEvents'),
        /waits for a task token/,
      ],
      [
        'a detail without the task token',
        (t) => (wait(t).Parameters.Entries[0].Detail['taskToken.$'] = '$.token'),
        /carries the task token/,
      ],
      ['a heartbeat nobody sends', (t) => (wait(t).HeartbeatSeconds = 3600), /HeartbeatSeconds/],
      ['a one-minute wait', (t) => (wait(t).TimeoutSeconds = 60), /1 to 30 days/],
      [
        'a catch-all on the wait',
        (t) => wait(t).Catch.push({ ErrorEquals: ['States.ALL'], Next: 'Approved' }),
        /catch-all/,
      ],
      [
        'a transition to nowhere',
        (t) => (states(t).IsApproved.Default = 'Nowhere'),
        /Nowhere, a state that exists/,
      ],
      ['a rejection that succeeds', (t) => (wait(t).Catch[0].Next = 'Approved'), /Runway.Rejected ends/],
      [
        'events the rule does not match',
        (t) => (wait(t).Parameters.Entries[0].DetailType = 'Task requested'),
        /pattern matches/,
      ],
      ['no dead-letter queue', (t) => delete target(t).DeadLetterConfig, /dead-letter queue/],
      ['no retry policy', (t) => delete target(t).RetryPolicy, /retries failed deliveries/],
      [
        'no idempotency key',
        (t) => delete target(t).HttpParameters.HeaderParameters['Idempotency-Key'],
        /Idempotency-Key/,
      ],
      [
        'another task type',
        (t) =>
          (target(t).InputTransformer.InputTemplate = target(t).InputTransformer.InputTemplate.replace(
            'approval',
            'review',
          )),
        /"type":"approval"/,
      ],
      [
        'a placeholder the event lacks',
        (t) => (target(t).InputTransformer.InputPathsMap.title = '$.detail.name'),
        /<title> is not a field/,
      ],
      ['a GET', (t) => (resource(t, 'TasksApiDestination').HttpMethod = 'GET'), /POSTs/],
      [
        'another path',
        (t) =>
          (resource(t, 'TasksApiDestination').InvocationEndpoint = { 'Fn::Sub': '${ApiBaseUrl}/v1/task' }),
        /<ApiBaseUrl>\/v1\/tasks/,
      ],
      [
        'an API key connection',
        (t) => (resource(t, 'TasksApiConnection').AuthorizationType = 'API_KEY'),
        /client credentials/,
      ],
      [
        'a read scope',
        (t) =>
          (resource(
            t,
            'TasksApiConnection',
          ).AuthParameters.OAuthParameters.OAuthHttpParameters.BodyParameters[1].Value = SCOPES.tasksRead),
        /asks for runway\/tasks.write only/,
      ],
      [
        'the web client',
        (t) => {
          const client = resource(t, 'TasksApiConnection').AuthParameters.OAuthParameters.ClientParameters;
          client.ClientID = ref('WebClient');
          client.ClientSecret = getAtt('WebClient', 'ClientSecret');
        },
        /client-credentials grant/,
      ],
      [
        'a state machine role without PutEvents',
        (t) =>
          (resource(t, 'TasksStateMachineRole').Policies[0].PolicyDocument.Statement[0].Action =
            'events:PutRule'),
        /may put events on the bus/,
      ],
      [
        'a queue policy for any rule',
        (t) => delete resource(t, 'TasksDeadLetterQueuePolicy').PolicyDocument.Statement[0].Condition,
        /this rule \(only\)/,
      ],
    ];
    it.each(mutations)('%s', (_name, mutate, problem) => {
      const broken = structuredClone(env);
      mutate(broken);
      expect(workflowProblems(broken, 'test').join('\n')).toMatch(problem);
    });

    it('a resource created while the workflow is off', () => {
      const broken = structuredClone(env);
      delete broken.Resources.TasksAlarmTopic!.Condition;
      expect(workflowPartsCreated(broken, 'test')).toEqual(['TasksAlarmTopic']);
    });
  });
});
