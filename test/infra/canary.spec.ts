import {
  AdminCreateUserCommand,
  AdminSetUserPasswordCommand,
  CreateUserPoolClientCommand,
  CreateUserPoolCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { compileFunction } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadTemplate, mergeAddons, parseCloudFormation, type Template } from '../../tools/deploy/addons.js';
import { CANARY_TEMPLATE, renderCanaryScript, withScript } from '../../tools/deploy/canary.js';
import type * as CanaryModule from '../../tools/synthetics/canary.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { APP, apiEvaluator, ENVIRONMENTS, WORKLOAD, type Env, type Json } from '../support/cloudformation.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startEmulator, type Emulator } from '../support/cognito-local.js';
import { ROOT } from '../support/process.js';

const SECRETS_MANAGER = '@aws-sdk/client-secrets-manager';
const run = promisify(execFile);

/**
 * Loads the script the way Node loads a CommonJS file, with a `require` that knows only the given modules: the
 * script must need nothing but what the Synthetics runtime has.
 */
function loadCanaryScript(script: string, available: Record<string, unknown> = {}) {
  const required: string[] = [];
  const module = { exports: {} };
  const load = compileFunction(script, ['exports', 'require', 'module', '__filename', '__dirname'], {
    filename: 'index.js',
  });
  const require = (id: string) => {
    required.push(id);
    if (id in available) return available[id];
    throw new Error(`Cannot find module '${id}' (the canary script may only use ${SECRETS_MANAGER})`);
  };
  load(module.exports, require, module, '/opt/nodejs/node_modules/index.js', '/opt/nodejs/node_modules');
  return { canary: module.exports as typeof CanaryModule, required };
}

describe('the canary script (copilot/api/addons/canary.yml, Code.Script)', () => {
  it('is what `npm run canary:render` produces from tools/synthetics now', async () => {
    const text = await readFile(CANARY_TEMPLATE, 'utf8');
    const script = renderCanaryScript();
    const inTemplate = (
      loadTemplate(CANARY_TEMPLATE).Resources.Canary?.Properties?.Code as { Script: string }
    ).Script;
    expect(inTemplate === script, 'the canary script is out of date: run npm run canary:render').toBe(true);
    expect(withScript(text, script)).toBe(text);
  });

  it('is written into the template as a YAML literal block that reads back unchanged', () => {
    const template = [
      'Resources:',
      '  Canary:',
      '    Properties:',
      '      Code:',
      '        Handler: index.handler',
      '        Script: |',
      '          old',
      '',
      '          still old',
      '',
      '  Next:',
      '    Type: AWS::SNS::Topic',
      '',
    ].join('\n');
    const script = "// a: b\n'use strict';\n\n# not a comment\n  indented {\n\treturn `x\n\n  y`;\n}\n";
    const written = withScript(template, script);
    const parsed = parseCloudFormation(written) as Template;
    expect((parsed.Resources.Canary?.Properties?.Code as { Script: string }).Script).toBe(script);
    expect(parsed.Resources.Next).toEqual({ Type: 'AWS::SNS::Topic' });
    expect(withScript(written, script)).toBe(written);
    expect(() => withScript('Resources: {}\n', script)).toThrow(/one "Script: \|" line/);
  });

  it('loads without any module: the Secrets Manager client is required only when the secret is read', () => {
    const { canary, required } = loadCanaryScript(renderCanaryScript());
    expect(typeof canary.handler).toBe('function');
    expect(typeof canary.runCanary).toBe('function');
    expect(required).toEqual([]);
  });

  it('names its handler where an import() finds it as well as require()', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'runway-canary-'));
    try {
      await writeFile(join(dir, 'index.js'), renderCanaryScript());
      // In a node of its own: the test runner's import() would find the names of module.exports anyway.
      const { stdout } = await run(process.execPath, [
        '--input-type=module',
        '--eval',
        `const canary = await import(${JSON.stringify(pathToFileURL(join(dir, 'index.js')).href)});
         process.stdout.write(typeof canary.handler);`,
      ]);
      expect(stdout).toBe('function');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the canary, run from its rendered script against the app and a Cognito emulator', () => {
  const username = 'canary@example.com';
  const password = 'Canary#Passw0rd-long';
  let db: TestDatabase;
  let emulator: Emulator;
  let t: TestApp;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    emulator = await startEmulator();
    const { cognito, endpoint, port } = emulator;
    const pool = (await cognito.send(new CreateUserPoolCommand({ PoolName: 'runway' }))).UserPool!;
    const client = (
      await cognito.send(
        new CreateUserPoolClientCommand({
          UserPoolId: pool.Id,
          ClientName: 'canary',
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        }),
      )
    ).UserPoolClient!;
    await cognito.send(
      new AdminCreateUserCommand({ UserPoolId: pool.Id, Username: username, MessageAction: 'SUPPRESS' }),
    );
    await cognito.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: pool.Id,
        Username: username,
        Password: password,
        Permanent: true,
      }),
    );
    t = await createTestApp({
      databaseUrl: db.url,
      env: {
        COGNITO_USER_POOL_ID: pool.Id!,
        COGNITO_CLIENT_ID: client.ClientId!,
        COGNITO_JWKS_URL: `${endpoint}/${pool.Id}/.well-known/jwks.json`,
        COGNITO_ISSUER: `http://localhost:${port}/${pool.Id}`,
      },
    });
    await t.app.listen(0, '127.0.0.1');
    env = {
      BASE_URL: await t.app.getUrl(),
      CANARY_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:runway-test-api-canary-AbCdEf',
      COGNITO_CLIENT_ID: client.ClientId!,
      COGNITO_ENDPOINT: `${endpoint}/`,
    };
  });

  afterAll(async () => {
    await t?.close();
    await emulator?.stop();
    await db?.drop();
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const secret = (value: object) => JSON.stringify(value);

  it('signs the canary user in and passes every step of the journey', async () => {
    const { canary } = loadCanaryScript(renderCanaryScript());
    const lines: string[] = [];
    const asked: string[] = [];
    const result = await canary.runCanary({
      env,
      getSecret: (id) => {
        asked.push(id);
        return Promise.resolve(secret({ username, password }));
      },
      log: (line) => lines.push(line),
    });
    expect(asked).toEqual([env.CANARY_SECRET_ID]);
    expect(result.steps.map((step) => [step.name, step.ok])).toEqual([
      ['live', true],
      ['ready', true],
      ['me', true],
      ['create project', true],
      ['read project', true],
      ['update project', true],
      ['delete project', true],
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^synthetics: PASS 7\/7 steps/);
  });

  it('runs as Synthetics calls it: index.handler, settings from the environment, the secret through the SDK', async () => {
    const commands: unknown[] = [];
    const sdk = {
      GetSecretValueCommand: class {
        constructor(readonly input: { SecretId: string }) {}
      },
      SecretsManagerClient: class {
        send(command: { input: { SecretId: string } }) {
          commands.push(command.input);
          return Promise.resolve({ SecretString: secret({ username, password }) });
        }
      },
    };
    const { canary, required } = loadCanaryScript(renderCanaryScript(), { [SECRETS_MANAGER]: sdk });
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await expect(canary.handler()).resolves.toMatch(/^synthetics: PASS 7\/7/);
    } finally {
      write.mockRestore();
    }
    expect(commands).toEqual([{ SecretId: env.CANARY_SECRET_ID }]);
    expect(required).toEqual([SECRETS_MANAGER]);
  });

  it('fails the run, saying why, on a wrong password, an unreachable API, a malformed secret or a missing setting', async () => {
    const { canary } = loadCanaryScript(renderCanaryScript());
    const run = (overrides: Record<string, string>, value: string, log: (line: string) => void = () => {}) =>
      canary.runCanary({ env: { ...env, ...overrides }, getSecret: () => Promise.resolve(value), log });

    await expect(run({}, secret({ username, password: 'Wrong#Passw0rd-long' }))).rejects.toThrow(
      /^canary: sign-in failed: 400 \w+Exception: /,
    );
    const lines: string[] = [];
    await expect(
      run({ BASE_URL: 'http://127.0.0.1:1' }, secret({ username, password }), (line) => lines.push(line)),
    ).rejects.toThrow(/^synthetics: FAIL 0\/7 steps/);
    expect(lines[0]).toMatch(/^synthetics: FAIL 0\/7 steps .*live \d+ FAILED/);
    await expect(run({}, 'set-me')).rejects.toThrow(/the secret must be JSON/);
    await expect(run({}, secret({ username }))).rejects.toThrow(/the secret must be JSON/);
    await expect(run({ BASE_URL: '' }, secret({ username, password }))).rejects.toThrow(
      'canary: BASE_URL is not set',
    );
  });
});

/** The condition canary.yml uses is declared once for the folder, in alarms.yml (Copilot merges the files). */
const FOLDER_CONDITIONS = mergeAddons(join(ROOT, 'copilot', 'api', 'addons')).Conditions ?? {};
const evaluatorFor = (template: Template, env: Env) =>
  apiEvaluator({ ...template, Conditions: { ...FOLDER_CONDITIONS, ...template.Conditions } }, env);

/** A `!Sub` of the addon's parameters as `env` reads it; anything else throws. */
function substitute(template: Template, value: unknown, env: Env): string {
  const text = (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  if (typeof text !== 'string') throw new Error(`expected a Fn::Sub string, got ${JSON.stringify(value)}`);
  return evaluatorFor(template, env).text(value);
}

/** Every 5 minutes in prod; hourly in test, where the pipeline's journey checks each release. */
const SCHEDULES: Record<Env, { expression: string; seconds: number }> = {
  test: { expression: 'rate(1 hour)', seconds: 3600 },
  prod: { expression: 'rate(5 minutes)', seconds: 300 },
};

const get = (value: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Json | undefined)?.[key as string], value);

/** What cfn-lint cannot see: the values that make the canary run, fit its limits and alarm. */
function canaryProblems(template: Template): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const sub = (value: unknown, env: Env) => substitute(template, value, env);
  const canaries = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Synthetics::Canary');
  if (canaries.length !== 1 || canaries[0]![0] !== 'Canary')
    return ['one AWS::Synthetics::Canary named Canary'];
  const canary = template.Resources.Canary!.Properties!;
  for (const env of ENVIRONMENTS) {
    const expression = evaluatorFor(template, env).resolve(get(canary, 'Schedule', 'Expression'));
    check(expression === SCHEDULES[env].expression, `schedule ${SCHEDULES[env].expression} in ${env}`);
  }
  check(/^syn-nodejs-[a-z]+-\d+\.\d+$/.test(String(canary.RuntimeVersion)), 'a syn-nodejs-* runtime');
  check(get(canary, 'Code', 'Handler') === 'index.handler', 'handler index.handler');
  for (const env of ENVIRONMENTS) {
    const name = sub(canary.Name, env);
    check(name.length <= 21 && /^[0-9a-z_-]+$/.test(name), `canary name ${name}: at most 21 of [0-9a-z_-]`);
  }

  const variables = get(canary, 'RunConfig', 'EnvironmentVariables') as Json;
  for (const name of ['BASE_URL', 'CANARY_SECRET_ID', 'COGNITO_CLIENT_ID', 'COGNITO_ENDPOINT']) {
    check(name in variables, `environment variable ${name}`);
  }
  check(
    JSON.stringify(variables.CANARY_SECRET_ID) === JSON.stringify({ Ref: 'CanarySecret' }),
    'CANARY_SECRET_ID is the canary secret',
  );
  check(
    sub(get(variables, 'COGNITO_CLIENT_ID', 'Fn::ImportValue'), 'test') === `${APP}-test-CanaryClientId`,
    'COGNITO_CLIENT_ID imports ${App}-${Env}-CanaryClientId',
  );
  check(
    JSON.stringify(variables.BASE_URL).includes('-PublicLoadBalancerDNS'),
    'BASE_URL defaults to the load balancer',
  );

  const bucket = template.Resources.CanaryArtifactsBucket;
  const bucketProps = bucket?.Properties ?? {};
  check(bucket?.Type === 'AWS::S3::Bucket', 'an artifacts bucket CanaryArtifactsBucket');
  const sse = get(
    bucketProps,
    'BucketEncryption',
    'ServerSideEncryptionConfiguration',
    0,
    'ServerSideEncryptionByDefault',
    'SSEAlgorithm',
  );
  check(sse === 'AES256' || sse === 'aws:kms', 'artifacts bucket encrypted');
  const block = (bucketProps.PublicAccessBlockConfiguration ?? {}) as Json;
  check(
    ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].every(
      (key) => block[key] === true,
    ),
    'artifacts bucket public access blocked',
  );
  const rules = (get(bucketProps, 'LifecycleConfiguration', 'Rules') ?? []) as Json[];
  check(
    rules.some(
      (rule) => rule.Status === 'Enabled' && rule.ExpirationInDays === 30 && !rule.Prefix && !rule.Filter,
    ),
    'artifacts expire after 30 days',
  );
  check(
    String(get(canary, 'ArtifactS3Location', 'Fn::Sub')).startsWith('s3://${CanaryArtifactsBucket}'),
    'artifacts in the bucket',
  );

  const statements = ((get(template.Resources.CanaryRole, 'Properties', 'Policies') ?? []) as Json[]).flatMap(
    (policy) => get(policy, 'PolicyDocument', 'Statement') as Json[],
  );
  const allows = (action: string, resource: string) =>
    statements.some(
      (s) =>
        s.Effect === 'Allow' &&
        [s.Action].flat().includes(action) &&
        JSON.stringify(s.Resource ?? '').includes(resource),
    );
  check(
    JSON.stringify(canary.ExecutionRoleArn) === JSON.stringify({ 'Fn::GetAtt': ['CanaryRole', 'Arn'] }),
    'role',
  );
  check(allows('s3:PutObject', 'CanaryArtifactsBucket'), 'role writes artifacts');
  check(allows('s3:GetBucketLocation', 'CanaryArtifactsBucket'), 'role locates the bucket');
  check(allows('secretsmanager:GetSecretValue', '{"Ref":"CanarySecret"}'), 'role reads the canary secret');
  check(
    statements.some(
      (s) =>
        [s.Action].flat().includes('cloudwatch:PutMetricData') &&
        get(s, 'Condition', 'StringEquals', 'cloudwatch:namespace') === 'CloudWatchSynthetics',
    ),
    'role puts metrics in CloudWatchSynthetics only',
  );
  const logs = statements.find((s) => [s.Action].flat().includes('logs:PutLogEvents'));
  for (const env of ENVIRONMENTS) {
    check(
      !!logs && sub(logs.Resource, env).endsWith(`:log-group:/aws/lambda/cwsyn-${sub(canary.Name, env)}-*`),
      `role logs to the canary's function log group (${env})`,
    );
  }

  const secret = template.Resources.CanarySecret?.Properties ?? {};
  const generate = (secret.GenerateSecretString ?? {}) as Json;
  const secretTemplate =
    typeof generate.SecretStringTemplate === 'string' ? generate.SecretStringTemplate : '{}';
  check(
    typeof (JSON.parse(secretTemplate) as Json).username === 'string' &&
      generate.GenerateStringKey === 'password',
    'secret {username, password}',
  );
  check(
    Number(generate.PasswordLength) >= 12 &&
      generate.RequireEachIncludedType !== false &&
      !['ExcludeUppercase', 'ExcludeLowercase', 'ExcludeNumbers', 'ExcludePunctuation'].some(
        (k) => generate[k],
      ),
    'generated password meets the user pool policy (12+, every character class)',
  );

  const output = template.Outputs?.CanarySecretArn;
  check(
    !!output?.Export &&
      sub(output.Export.Name, 'test') === `${APP}-test-${WORKLOAD}-CanarySecret` &&
      JSON.stringify(output.Value) === JSON.stringify({ 'Fn::GetAtt': ['CanarySecret', 'Id'] }),
    'exports the secret ARN, not as a !Ref (Copilot would put a !Ref-ed secret into the service)',
  );

  const alarm = template.Resources.CanaryAlarm?.Properties ?? {};
  for (const env of ENVIRONMENTS) {
    check(sub(alarm.AlarmName, env) === `${APP}-${env}-${WORKLOAD}-canary`, `alarm name (${env})`);
  }
  check(
    alarm.Namespace === 'CloudWatchSynthetics' &&
      alarm.MetricName === 'SuccessPercent' &&
      JSON.stringify(alarm.Dimensions) === JSON.stringify([{ Name: 'CanaryName', Value: { Ref: 'Canary' } }]),
    'alarm on the canary SuccessPercent',
  );
  // Each period of the schedule holds one run: the alarm fires on two failed runs in a row.
  for (const env of ENVIRONMENTS) {
    check(
      alarm.Statistic === 'Average' &&
        alarm.Threshold === 90 &&
        alarm.ComparisonOperator === 'LessThanThreshold' &&
        evaluatorFor(template, env).resolve(alarm.Period) === SCHEDULES[env].seconds &&
        alarm.EvaluationPeriods === 2 &&
        alarm.DatapointsToAlarm === 2,
      `alarm below 90 % for 2 of 2 periods of the schedule in ${env}`,
    );
  }
  check(alarm.TreatMissingData === 'breaching', 'missing canary data is breaching');
  check(
    JSON.stringify(alarm.AlarmActions) === JSON.stringify([{ Ref: 'AlarmTopic' }]),
    'alarm notifies AlarmTopic',
  );
  return problems;
}

describe('the canary addon (copilot/api/addons/canary.yml)', () => {
  const template = loadTemplate(CANARY_TEMPLATE);

  it('runs every 5 minutes in prod and hourly in test on a Node.js runtime, within name limits, with its bucket, role, secret and alarm', () => {
    expect(canaryProblems(template)).toEqual([]);
  });

  it('catches a broken copy', () => {
    const broken = (change: (copy: Template) => void) => {
      const copy = structuredClone(template);
      change(copy);
      return canaryProblems(copy);
    };
    const canary = (copy: Template) => copy.Resources.Canary!.Properties!;
    expect(broken((c) => ((canary(c).Schedule as Json).Expression = 'rate(1 hour)'))).toEqual([
      'schedule rate(5 minutes) in prod',
    ]);
    expect(broken((c) => ((canary(c).Schedule as Json).Expression = 'rate(5 minutes)'))).toEqual([
      'schedule rate(1 hour) in test',
    ]);
    expect(broken((c) => (c.Resources.CanaryAlarm!.Properties!.Period = 300))).toEqual([
      'alarm below 90 % for 2 of 2 periods of the schedule in test',
    ]);
    expect(broken((c) => (canary(c).RuntimeVersion = 'syn-python-selenium-6.0'))).toEqual([
      'a syn-nodejs-* runtime',
    ]);
    expect(broken((c) => (canary(c).Name = { 'Fn::Sub': '${App}-${Env}-critical-journey' }))).toEqual(
      expect.arrayContaining(['canary name runway-test-critical-journey: at most 21 of [0-9a-z_-]']),
    );
    expect(broken((c) => (canary(c).Name = { 'Fn::Sub': '${App}-${Env}-Journey' }))).toContain(
      'canary name runway-prod-Journey: at most 21 of [0-9a-z_-]',
    );
    expect(
      broken((c) => delete (c.Resources.CanaryArtifactsBucket!.Properties as Json).LifecycleConfiguration),
    ).toEqual(['artifacts expire after 30 days']);
    expect(broken((c) => (c.Resources.CanaryAlarm!.Properties!.TreatMissingData = 'notBreaching'))).toEqual([
      'missing canary data is breaching',
    ]);
    expect(broken((c) => (c.Outputs!.CanarySecretArn!.Value = { Ref: 'CanarySecret' }))).toEqual([
      'exports the secret ARN, not as a !Ref (Copilot would put a !Ref-ed secret into the service)',
    ]);
    expect(broken((c) => (c.Resources.CanaryAlarm!.Properties!.Threshold = 50))).toEqual([
      'alarm below 90 % for 2 of 2 periods of the schedule in test',
      'alarm below 90 % for 2 of 2 periods of the schedule in prod',
    ]);
    expect(
      broken(
        (c) =>
          ((c.Resources.CanarySecret!.Properties!.GenerateSecretString as Json).ExcludePunctuation = true),
      ),
    ).toEqual(['generated password meets the user pool policy (12+, every character class)']);
  });

  it('refers only to parameters, conditions and resources of the merged api addons (AlarmTopic is alarms.yml’s)', () => {
    const merged = mergeAddons(join(ROOT, 'copilot', 'api', 'addons'));
    expect(merged.Resources.AlarmTopic?.Type).toBe('AWS::SNS::Topic');
    const known = new Set([...Object.keys(merged.Parameters ?? {}), ...Object.keys(merged.Resources)]);
    const missing = new Set<string>();
    const visit = (node: unknown, locals: Set<string>) => {
      if (Array.isArray(node)) return node.forEach((item) => visit(item, locals));
      if (!node || typeof node !== 'object') return;
      const entries = node as Json;
      if (typeof entries.Ref === 'string' && !entries.Ref.startsWith('AWS::') && !known.has(entries.Ref)) {
        missing.add(entries.Ref);
      }
      const getAtt = entries['Fn::GetAtt'] as string[] | undefined;
      if (getAtt && !known.has(getAtt[0]!)) missing.add(getAtt[0]!);
      const condition = (entries['Fn::If'] as unknown[] | undefined)?.[0];
      if (typeof condition === 'string' && !(condition in (merged.Conditions ?? {}))) missing.add(condition);
      const subValue = entries['Fn::Sub'];
      if (subValue !== undefined) {
        const [text, variables] = Array.isArray(subValue) ? subValue : [subValue, {}];
        const inner = new Set([...locals, ...Object.keys(variables as Json)]);
        for (const [, name] of String(text).matchAll(/\$\{([^}!]+)\}/g)) {
          const id = name!.split('.')[0]!;
          if (!id.startsWith('AWS::') && !inner.has(id) && !known.has(id)) missing.add(id);
        }
        return visit(variables, locals);
      }
      Object.values(entries).forEach((value) => visit(value, locals));
    };
    visit(template.Resources, new Set());
    expect([...missing]).toEqual([]);
  });

  it('signs in with the environment’s canary app client, which allows USER_PASSWORD_AUTH', () => {
    const cognito = loadTemplate(join(ROOT, 'copilot', 'environments', 'addons', 'cognito.yml'));
    const output = Object.values(cognito.Outputs ?? {}).find(
      (o) => JSON.stringify(o.Export?.Name) === JSON.stringify({ 'Fn::Sub': '${App}-${Env}-CanaryClientId' }),
    );
    const client = cognito.Resources[(output?.Value as { Ref: string } | undefined)?.Ref ?? ''];
    expect(client?.Type).toBe('AWS::Cognito::UserPoolClient');
    expect(client?.Properties?.ExplicitAuthFlows).toContain('ALLOW_USER_PASSWORD_AUTH');
    expect(client?.Properties?.GenerateSecret).not.toBe(true);
  });
});
