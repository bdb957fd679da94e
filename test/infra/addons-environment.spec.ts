import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addonParameters, mergeAddons, type Template } from '../../tools/deploy/addons.js';
import { loadConfig } from '../../src/config/config.js';
import {
  APP,
  ENVIRONMENTS,
  Evaluator,
  literalParameters,
  sameJson,
  type Env,
} from '../support/cloudformation.js';
import { ROOT } from '../support/process.js';

/**
 * What cfn-lint cannot see in the environment addons: the values that matter per environment (retention, deletion
 * protection, scaling, budgets), Cognito limits and flows, and that the database secret carries what the app reads.
 */

const FOLDER = join(ROOT, 'copilot', 'environments', 'addons');

const EXPECTED = {
  test: {
    minBackupRetention: 7,
    deletionProtection: false,
    userPoolDeletionProtection: 'INACTIVE',
    minCapacity: 0,
    maxCapacity: 2,
    vaultRetentionDays: 7,
    anomalyAlerts: false,
  },
  prod: {
    minBackupRetention: 14,
    deletionProtection: true,
    userPoolDeletionProtection: 'ACTIVE',
    minCapacity: 0.5,
    maxCapacity: 8,
    vaultRetentionDays: 35,
    anomalyAlerts: true,
  },
} as const;

const EXPORTS = [
  'DatabaseSecret',
  'DatabaseClientSecurityGroup',
  'DatabaseClusterArn',
  'DatabaseClusterId',
  'UserPoolId',
  'UserPoolArn',
  'AppClientIds',
  'WebClientId',
  'MachineClientId',
  'CanaryClientId',
  'CognitoDomain',
  'WebAclArn',
];
/** The WAF is prod's unless WafOutsideProd is 'true'. */
const PROD_ONLY_EXPORTS = ['WebAclArn'];

/** Sample values for what addons.parameters.yml takes from the environment stack. */
const SAMPLE_PARAMETERS = { VpcId: 'vpc-0123456789abcdef0', PrivateSubnets: 'subnet-0aaa,subnet-0bbb' };

/**
 * Template values are read structurally: any path may be missing or of the wrong type, and the checks turn that into
 * a problem rather than a type error.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
type Props = Record<string, Loose>;
type Resource = { Type: string; Properties: Props } & Props;
type Output = { Value: unknown; Export?: { Name: unknown } };
type Stack = { resources: Record<string, Resource>; outputs: Record<string, Output> };

function instantiate(template: Template, env: Env): Stack {
  const { Resources, Outputs } = new Evaluator(template, {
    App: APP,
    Env: env,
    ...SAMPLE_PARAMETERS,
    ...literalParameters(FOLDER),
  }).instantiate();
  return {
    resources: Resources as Record<string, Resource>,
    outputs: Outputs ?? {},
  };
}

function only(stack: Stack, type: string): [string, Resource] | undefined {
  const found = Object.entries(stack.resources).filter(([, resource]) => resource.Type === type);
  return found.length === 1 ? found[0] : undefined;
}

const ref = (id: string) => ({ Ref: id });
const sorted = (list: unknown) => (Array.isArray(list) ? [...(list as string[])].sort() : list);

/** Every problem found in the merged template for one environment; [] when all is well. */
function problems(template: Template, env: Env): string[] {
  const stack = instantiate(template, env);
  const found: string[] = [];
  const check = (ok: unknown, problem: string) => {
    if (!ok) found.push(problem);
  };
  databaseProblems(stack, env, check);
  cognitoProblems(stack, env, check);
  backupProblems(stack, env, check);
  costProblems(stack, env, check);
  exportProblems(stack, env, check);
  return found;
}

type Check = (ok: unknown, problem: string) => void;

function databaseProblems(stack: Stack, env: Env, check: Check): void {
  const expected = EXPECTED[env];
  const cluster = only(stack, 'AWS::RDS::DBCluster');
  check(cluster, 'one Aurora cluster');
  if (!cluster) return;
  const [clusterId, { Properties: db, ...attributes }] = cluster;
  check(db.Engine === 'aurora-postgresql', 'engine aurora-postgresql');
  const major = /^(1[67])\.\d+$/.exec(String(db.EngineVersion))?.[1];
  check(major, 'engine version a current minor of 16 or 17');
  check(db.StorageEncrypted === true, 'storage encrypted');
  check(attributes.DeletionPolicy === 'Snapshot', 'cluster DeletionPolicy Snapshot');
  check(attributes.UpdateReplacePolicy === 'Snapshot', 'cluster UpdateReplacePolicy Snapshot');
  check(
    db.DeletionProtection === expected.deletionProtection,
    `deletion protection ${expected.deletionProtection}`,
  );
  check(
    db.BackupRetentionPeriod >= expected.minBackupRetention && db.BackupRetentionPeriod <= 35,
    `backup retention between ${expected.minBackupRetention} and 35 days`,
  );
  check(db.EnableIAMDatabaseAuthentication === false, 'IAM database authentication off');
  check((db.EnableCloudwatchLogsExports ?? []).includes('postgresql'), 'postgresql logs exported');
  const scaling = db.ServerlessV2ScalingConfiguration ?? {};
  check(
    scaling.MinCapacity === expected.minCapacity && scaling.MaxCapacity === expected.maxCapacity,
    `scaling ${expected.minCapacity}-${expected.maxCapacity} ACU`,
  );
  check(
    scaling.MinCapacity === 0
      ? scaling.SecondsUntilAutoPause >= 300 && scaling.SecondsUntilAutoPause <= 86400
      : scaling.SecondsUntilAutoPause === undefined,
    'auto-pause (300 s to 1 day) set only when the minimum is 0 ACU',
  );

  const parameterGroup = stack.resources[db.DBClusterParameterGroupName?.Ref as string];
  check(
    parameterGroup?.Properties.Family === `aurora-postgresql${major}` &&
      String(parameterGroup.Properties.Parameters?.['rds.force_ssl']) === '1',
    'parameter group of the engine major forcing TLS',
  );

  const instances = Object.values(stack.resources).filter(
    (resource) => resource.Type === 'AWS::RDS::DBInstance',
  );
  check(
    instances.length >= 1 &&
      instances.every(
        ({ Properties: instance }) =>
          instance.DBInstanceClass === 'db.serverless' &&
          sameJson(instance.DBClusterIdentifier, ref(clusterId)) &&
          instance.PubliclyAccessible === false,
      ),
    'serverless, private instances in the cluster',
  );

  const secret = stack.resources.DatabaseSecret;
  const generated = secret?.Properties.GenerateSecretString ?? {};
  check(secret?.Type === 'AWS::SecretsManager::Secret', 'a DatabaseSecret secret');
  for (const field of ['username', 'password'] as const) {
    check(
      sameJson(db[field === 'username' ? 'MasterUsername' : 'MasterUserPassword'], {
        'Fn::Sub': `{{resolve:secretsmanager:\${DatabaseSecret}::${field}}}`,
      }),
      `cluster ${field} from the secret`,
    );
  }
  check(
    generated.GenerateStringKey === 'password' && generated.PasswordLength >= 32,
    'a 32-character password',
  );
  const attachment = only(stack, 'AWS::SecretsManager::SecretTargetAttachment')?.[1].Properties;
  check(
    sameJson(attachment?.SecretId, ref('DatabaseSecret')) &&
      sameJson(attachment?.TargetId, ref(clusterId)) &&
      attachment?.TargetType === 'AWS::RDS::DBCluster',
    'the secret is attached to the cluster',
  );
  // The secret as the service will read it: the template, the password, and what the attachment adds.
  let template: Record<string, unknown> = {};
  try {
    template = JSON.parse(generated.SecretStringTemplate as string);
  } catch {
    check(false, 'SecretStringTemplate is JSON');
  }
  check(template.dbname === db.DatabaseName, 'secret dbname is the cluster DatabaseName');
  const secretJson = JSON.stringify({
    ...template,
    password: 'A'.repeat(generated.PasswordLength ?? 32),
    engine: 'postgres',
    host: `${APP}-${env}-db.cluster-abc.eu-west-1.rds.amazonaws.com`,
    port: 5432,
    dbClusterIdentifier: `${APP}-${env}-db`,
  });
  try {
    const config = loadConfig({
      NODE_ENV: 'production',
      DB_SSL_MODE: 'require',
      DB_SECRET: secretJson,
      COGNITO_USER_POOL_ID: 'eu-west-1_Abc123',
      COGNITO_CLIENT_ID: 'x',
      // Required in production, unrelated to the database.
      PUBLIC_BASE_URL: 'https://api.example.com',
      TASK_LINK_SECRET: 'x'.repeat(64),
      TASK_TOKEN_KEY: 'y'.repeat(64),
    });
    check(
      config.database.url.endsWith(`.rds.amazonaws.com:5432/${String(db.DatabaseName)}`),
      'DB_SECRET gives a URL to the cluster database',
    );
  } catch (error) {
    check(false, `the app accepts the DB_SECRET JSON (${(error as Error).message})`);
  }

  const clientGroup = stack.resources.DatabaseClientSecurityGroup;
  const rules = stack.resources.DatabaseClusterSecurityGroup?.Properties.SecurityGroupIngress ?? [];
  check(clientGroup?.Type === 'AWS::EC2::SecurityGroup', 'a DatabaseClientSecurityGroup');
  check(
    rules.length > 0 &&
      rules.every(
        (rule: Record<string, unknown>) =>
          rule.FromPort === 5432 &&
          rule.ToPort === 5432 &&
          rule.CidrIp === undefined &&
          rule.CidrIpv6 === undefined &&
          sameJson(rule.SourceSecurityGroupId, { 'Fn::GetAtt': ['DatabaseClientSecurityGroup', 'GroupId'] }),
      ),
    'cluster reachable on 5432 from the client security group only',
  );
  check(
    sameJson(db.VpcSecurityGroupIds, [{ 'Fn::GetAtt': ['DatabaseClusterSecurityGroup', 'GroupId'] }]),
    'cluster in its security group',
  );
}

const TOKEN_UNIT_MINUTES = { seconds: 1 / 60, minutes: 1, hours: 60, days: 1440 } as Record<string, number>;
const TOKEN_LIMITS_MINUTES = {
  AccessToken: [5, 1440],
  IdToken: [5, 1440],
  RefreshToken: [60, 3650 * 1440],
} as const;

function cognitoProblems(stack: Stack, env: Env, check: Check): void {
  const pool = stack.resources.UserPool?.Properties;
  check(stack.resources.UserPool?.Type === 'AWS::Cognito::UserPool', 'a UserPool');
  if (!pool) return;
  const password = pool.Policies?.PasswordPolicy ?? {};
  check(
    password.MinimumLength >= 12 &&
      password.RequireUppercase === true &&
      password.RequireLowercase === true &&
      password.RequireNumbers === true &&
      password.RequireSymbols === true,
    'passwords of 12+ characters with every character class',
  );
  check(password.TemporaryPasswordValidityDays === 3, 'temporary passwords valid 3 days');
  check(
    sameJson(pool.UsernameAttributes, ['email']) && sameJson(pool.AutoVerifiedAttributes, ['email']),
    'email sign-in',
  );
  check(pool.AdminCreateUserConfig?.AllowAdminCreateUserOnly === true, 'no self sign-up');
  check(
    pool.MfaConfiguration === 'OPTIONAL' && sameJson(pool.EnabledMfas, ['SOFTWARE_TOKEN_MFA']),
    'optional TOTP MFA',
  );
  check(
    sameJson(pool.AccountRecoverySetting?.RecoveryMechanisms, [{ Name: 'verified_email', Priority: 1 }]),
    'recovery by verified email',
  );
  check(
    pool.DeletionProtection === EXPECTED[env].userPoolDeletionProtection,
    `user pool deletion protection ${EXPECTED[env].userPoolDeletionProtection}`,
  );
  for (const group of ['admin', 'synthetic']) {
    check(
      Object.values(stack.resources).some(
        (resource) =>
          resource.Type === 'AWS::Cognito::UserPoolGroup' &&
          resource.Properties.GroupName === group &&
          sameJson(resource.Properties.UserPoolId, ref('UserPool')),
      ),
      `a ${group} group`,
    );
  }

  for (const [id, client] of Object.entries(stack.resources)) {
    if (client.Type !== 'AWS::Cognito::UserPoolClient') continue;
    const units = client.Properties.TokenValidityUnits ?? {};
    for (const [token, [low, high]] of Object.entries(TOKEN_LIMITS_MINUTES)) {
      const value = client.Properties[`${token}Validity`];
      if (value === undefined) continue;
      const minutes = value * (TOKEN_UNIT_MINUTES[units[token] as string] ?? NaN);
      check(
        minutes >= low && minutes <= high,
        `${id} ${token} validity with explicit unit, within Cognito limits`,
      );
    }
    check(client.Properties.EnableTokenRevocation === true, `${id} can revoke tokens`);
    check(client.Properties.PreventUserExistenceErrors === 'ENABLED', `${id} hides whether users exist`);
  }

  const client = (id: string) => stack.resources[id]?.Properties ?? {};
  const userClient = (id: string, flows: string[], { oauth = false } = {}) => {
    check(client(id).GenerateSecret === false, `${id} has no secret`);
    check(
      sameJson(sorted(client(id).ExplicitAuthFlows), [...flows].sort()),
      `${id} flows exactly ${flows.join(', ')}`,
    );
    if (!oauth) check(client(id).AllowedOAuthFlows === undefined, `${id} has no OAuth flows`);
    for (const key of [
      'AccessTokenValidity',
      'IdTokenValidity',
      'RefreshTokenValidity',
      'TokenValidityUnits',
    ]) {
      check(client(id)[key] !== undefined, `${id} sets ${key}`);
    }
  };
  // The web client's managed-login (OAuth) settings: test/infra/addons-cognito.spec.ts.
  userClient('WebClient', ['ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'], { oauth: true });
  userClient('CanaryClient', ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
  check(
    ['AccessTokenValidity', 'IdTokenValidity', 'RefreshTokenValidity', 'TokenValidityUnits'].every((key) =>
      sameJson(client('CanaryClient')[key], client('WebClient')[key]),
    ),
    'CanaryClient tokens live as long as WebClient ones',
  );

  const machine = client('MachineClient');
  const scopes = new Set(
    Object.values(stack.resources)
      .filter((resource) => resource.Type === 'AWS::Cognito::UserPoolResourceServer')
      .flatMap(({ Properties: server }) =>
        (server.Scopes as { ScopeName: string }[]).map(
          (scope) => `${server.Identifier as string}/${scope.ScopeName}`,
        ),
      ),
  );
  check(machine.GenerateSecret === true, 'MachineClient has a secret');
  check(
    sameJson(machine.AllowedOAuthFlows, ['client_credentials']) &&
      machine.AllowedOAuthFlowsUserPoolClient === true,
    'MachineClient uses client_credentials only',
  );
  check(
    (machine.ExplicitAuthFlows ?? ['?']).every((flow: string) => flow === 'ALLOW_REFRESH_TOKEN_AUTH'),
    'MachineClient cannot sign users in',
  );
  check(
    (machine.AllowedOAuthScopes ?? []).length > 0 &&
      (machine.AllowedOAuthScopes as string[]).every((scope) => scopes.has(scope)),
    'MachineClient scopes are defined by a resource server',
  );
  check(
    [stack.resources.MachineClient?.DependsOn ?? []].flat().includes('ApiResourceServer'),
    'MachineClient created after the resource server',
  );
  const domain = only(stack, 'AWS::Cognito::UserPoolDomain')?.[1].Properties;
  check(
    typeof domain?.Domain === 'string' &&
      /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domain.Domain) &&
      !/aws|amazon|cognito/.test(domain.Domain),
    'a valid user pool domain prefix (needed by client_credentials)',
  );
  check(
    sameJson(stack.outputs.AppClientIds?.Value, {
      'Fn::Join': [',', [ref('WebClient'), ref('MachineClient'), ref('CanaryClient')]],
    }),
    'AppClientIds lists every client',
  );
}

function backupProblems(stack: Stack, env: Env, check: Check): void {
  const plan = only(stack, 'AWS::Backup::BackupPlan')?.[1].Properties.BackupPlan;
  const rules = (plan?.BackupPlanRule ?? []) as Props[];
  check(rules.length === 1, 'one backup rule');
  for (const rule of rules) {
    check(
      rule.Lifecycle?.DeleteAfterDays === EXPECTED[env].vaultRetentionDays,
      `backups kept ${EXPECTED[env].vaultRetentionDays} days`,
    );
    check(rule.ScheduleExpression === 'cron(0 3 * * ? *)', 'daily backup at 03:00 UTC');
    check(
      rule.StartWindowMinutes === 60 && rule.CompletionWindowMinutes === 180,
      'start within 60 min, complete within 180',
    );
    check(sameJson(rule.TargetBackupVault, ref('BackupVault')), 'backups go to the vault');
  }
  const selection = only(stack, 'AWS::Backup::BackupSelection')?.[1].Properties.BackupSelection;
  check(
    sameJson(selection?.Resources, [{ 'Fn::GetAtt': ['DatabaseCluster', 'DBClusterArn'] }]),
    'the cluster is selected',
  );
  const role = stack.resources[(selection?.IamRoleArn?.['Fn::GetAtt'] ?? [])[0] as string]?.Properties;
  check(
    ['ForBackup', 'ForRestores'].every((suffix) =>
      (role?.ManagedPolicyArns ?? []).includes(
        `arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicy${suffix}`,
      ),
    ) && role?.AssumeRolePolicyDocument?.Statement?.[0]?.Principal?.Service === 'backup.amazonaws.com',
    'the backup role can back up and restore',
  );
}

function costProblems(stack: Stack, env: Env, check: Check): void {
  const budget = only(stack, 'AWS::Budgets::Budget')?.[1].Properties;
  const data = budget?.Budget ?? {};
  check(data.BudgetType === 'COST' && data.TimeUnit === 'MONTHLY', 'a monthly cost budget');
  check(Number(data.BudgetLimit?.Amount) > 0 && data.BudgetLimit?.Unit === 'USD', 'a budget amount in USD');
  check(data.BudgetName === `${APP}-${env}-monthly`, 'budget named per environment');
  check(
    sameJson(data.CostFilters, { TagKeyValue: [`user:copilot-environment$${env}`] }),
    'budget of this environment',
  );
  const notifications = ((budget?.NotificationsWithSubscribers ?? []) as Props[]).map(
    ({ Notification, Subscribers }) => ({
      ...Notification,
      email: sameJson(Subscribers, [{ SubscriptionType: 'EMAIL', Address: 'ops@example.com' }]),
    }),
  );
  const notification = (type: string, threshold: number) => ({
    NotificationType: type,
    ComparisonOperator: 'GREATER_THAN',
    Threshold: threshold,
    ThresholdType: 'PERCENTAGE',
    email: true,
  });
  check(
    sameJson(notifications, [notification('ACTUAL', 80), notification('FORECASTED', 100)]),
    'budget emails at 80 % actual and 100 % forecast',
  );

  const monitor = only(stack, 'AWS::CE::AnomalyMonitor');
  const subscription = only(stack, 'AWS::CE::AnomalySubscription')?.[1].Properties;
  if (!EXPECTED[env].anomalyAlerts) {
    check(!monitor && !subscription, 'no cost anomaly alerts');
    return;
  }
  const parse = (text: unknown) => {
    try {
      return JSON.parse(text as string) as Props;
    } catch {
      return {};
    }
  };
  const spec = parse(monitor?.[1].Properties.MonitorSpecification);
  check(
    monitor?.[1].Properties.MonitorType === 'CUSTOM' &&
      sameJson(spec.Tags, { Key: 'copilot-environment', Values: [env], MatchOptions: ['EQUALS'] }),
    'an anomaly monitor of this environment',
  );
  check(
    sameJson(subscription?.MonitorArnList, [{ 'Fn::GetAtt': [monitor?.[0], 'MonitorArn'] }]),
    'subscribed',
  );
  // IMMEDIATE alerts can only go to SNS; email needs DAILY or WEEKLY.
  check(
    subscription?.Frequency === 'DAILY' &&
      sameJson(subscription?.Subscribers, [{ Type: 'EMAIL', Address: 'ops@example.com' }]),
    'daily anomaly emails',
  );
  check(
    sameJson(parse(subscription?.ThresholdExpression).Dimensions, {
      Key: 'ANOMALY_TOTAL_IMPACT_ABSOLUTE',
      MatchOptions: ['GREATER_THAN_OR_EQUAL'],
      Values: ['20'],
    }) && subscription?.Threshold === undefined,
    'anomalies of 20 USD or more (ThresholdExpression)',
  );
}

function exportProblems(stack: Stack, env: Env, check: Check): void {
  const prefix = `${APP}-${env}-`;
  const names = Object.values(stack.outputs).flatMap((output) => (output.Export ? [output.Export.Name] : []));
  for (const name of names)
    check(typeof name === 'string' && name.startsWith(prefix), `export ${String(name)} prefixed`);
  check(
    sameJson(
      [...names].sort(),
      EXPORTS.filter((name) => env === 'prod' || !PROD_ONLY_EXPORTS.includes(name))
        .map((name) => prefix + name)
        .sort(),
    ),
    'exactly the agreed exports',
  );
  check(
    Object.entries(stack.outputs).every(
      ([id, output]) => !output.Export || output.Export.Name === `${prefix}${id}`,
    ),
    'each export named after its output',
  );
}

describe('environment addons', () => {
  const merged = mergeAddons(FOLDER);

  it.each(ENVIRONMENTS)('have no problems for %s', (env) => {
    expect(problems(merged, env)).toEqual([]);
  });

  it.each([
    [
      'test',
      // Pauses after the shortest delay Aurora allows (what an hourly canary run then costs: test/infra/cost.spec.ts).
      { retention: 7, acu: [0, 2], autoPause: 300, deletionProtection: false, vault: 7, anomalies: false },
    ],
    [
      'prod',
      {
        retention: 14,
        acu: [0.5, 8],
        autoPause: undefined,
        deletionProtection: true,
        vault: 35,
        anomalies: true,
      },
    ],
  ] as const)('set the agreed values in %s', (env, agreed) => {
    const { resources } = instantiate(merged, env);
    const db = resources.DatabaseCluster!.Properties;
    expect({
      retention: db.BackupRetentionPeriod,
      acu: [db.ServerlessV2ScalingConfiguration.MinCapacity, db.ServerlessV2ScalingConfiguration.MaxCapacity],
      autoPause: db.ServerlessV2ScalingConfiguration.SecondsUntilAutoPause,
      deletionProtection: db.DeletionProtection,
      vault: resources.BackupPlan!.Properties.BackupPlan.BackupPlanRule[0].Lifecycle.DeleteAfterDays,
      anomalies: 'CostAnomalySubscription' in resources,
    }).toEqual(agreed);
  });

  it('take their parameters the way Copilot requires', () => {
    const given = addonParameters(FOLDER);
    const declared = merged.Parameters ?? {};
    expect(Object.keys(given)).not.toContain('App');
    expect(Object.keys(given)).not.toContain('Env');
    for (const name of Object.keys(given)) expect(declared).toHaveProperty(name);
    for (const [name, parameter] of Object.entries(declared)) {
      if (name === 'App' || name === 'Env') continue;
      expect(name in given || 'Default' in parameter, `${name} has a value`).toBe(true);
    }
    expect(given.VpcId).toEqual({ Ref: 'VPC' });
    expect(given.PrivateSubnets).toEqual({
      'Fn::Join': [',', [{ Ref: 'PrivateSubnet1' }, { Ref: 'PrivateSubnet2' }]],
    });
    expect(String(given.BudgetEmail)).toMatch(new RegExp(declared.BudgetEmail!.AllowedPattern as string));
  });

  it('declare the shared condition and mapping once, for every environment', () => {
    expect((merged.Conditions as Props).IsProd).toEqual({ 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] });
    expect(Object.keys(merged.Conditions as Props).sort()).toEqual([
      'HasPublicLoadBalancer',
      'HasSesFromAddress',
      'IsProd',
      'Protected',
      'ProtectsLoadBalancer',
      'SelfSignUpAllowed',
      'SendsWithSes',
      'TasksWorkflowEnabled',
    ]);
    expect(Object.keys((merged.Mappings as Props).EnvironmentSettings as object).sort()).toEqual([
      'prod',
      'test',
    ]);
  });

  describe('catch a broken template', () => {
    type Mutation = [string, (template: Template) => void, RegExp, Env?];
    const resource = (template: Template, id: string) => template.Resources[id]!.Properties as Props;
    const settings = (template: Template, env: Env) =>
      (template.Mappings as Record<string, Record<string, Record<string, unknown>>>).EnvironmentSettings![
        env
      ]!;
    const mutations: Mutation[] = [
      [
        'a misspelled StorageEncrypted',
        (t) => {
          const db = resource(t, 'DatabaseCluster');
          db.StorageEncrypt = db.StorageEncrypted;
          delete db.StorageEncrypted;
        },
        /storage encrypted/,
      ],
      ['backup retention of 1 day', (t) => (settings(t, 'test').BackupRetentionDays = 1), /backup retention/],
      ['an old engine', (t) => (resource(t, 'DatabaseCluster').EngineVersion = '14.4'), /engine version/],
      [
        'no final snapshot',
        (t) => (t.Resources.DatabaseCluster!.DeletionPolicy = 'Delete'),
        /DeletionPolicy/,
      ],
      [
        'no deletion protection in prod',
        (t) => (resource(t, 'DatabaseCluster').DeletionProtection = false),
        /deletion protection true/,
        'prod',
      ],
      ['prod pausing', (t) => (settings(t, 'prod').MinCapacity = 0), /scaling|auto-pause/, 'prod'],
      [
        'a secret without dbname',
        (t) =>
          (resource(t, 'DatabaseSecret').GenerateSecretString.SecretStringTemplate =
            '{"username": "runway"}'),
        /dbname|DB_SECRET/,
      ],
      [
        'the database open to a CIDR',
        (t) => (resource(t, 'DatabaseClusterSecurityGroup').SecurityGroupIngress[0].CidrIp = '0.0.0.0/0'),
        /client security group only/,
      ],
      [
        'a web client with a secret',
        (t) => (resource(t, 'WebClient').GenerateSecret = true),
        /WebClient has no secret/,
      ],
      [
        'a web client allowing plain passwords',
        (t) => resource(t, 'WebClient').ExplicitAuthFlows.push('ALLOW_USER_PASSWORD_AUTH'),
        /WebClient flows/,
      ],
      [
        'an access token valid 2 minutes',
        (t) => (resource(t, 'WebClient').AccessTokenValidity = 2),
        /WebClient AccessToken validity/,
      ],
      [
        'token validity without units',
        (t) => delete resource(t, 'CanaryClient').TokenValidityUnits,
        /CanaryClient .*validity|CanaryClient sets TokenValidityUnits/,
      ],
      [
        'short passwords',
        (t) => (resource(t, 'UserPool').Policies.PasswordPolicy.MinimumLength = 8),
        /passwords/,
      ],
      [
        'an unprotected prod pool',
        (t) => (resource(t, 'UserPool').DeletionProtection = 'INACTIVE'),
        /user pool deletion protection/,
        'prod',
      ],
      [
        'a scope no resource server defines',
        (t) => resource(t, 'MachineClient').AllowedOAuthScopes.push('runway/tasks.admin'),
        /MachineClient scopes/,
      ],
      [
        'a machine client with a user flow',
        (t) => resource(t, 'MachineClient').AllowedOAuthFlows.push('code'),
        /client_credentials only/,
      ],
      [
        'an 80 % forecast alert',
        (t) => (resource(t, 'MonthlyBudget').NotificationsWithSubscribers[1].Notification.Threshold = 80),
        /budget emails/,
      ],
      [
        'an absolute threshold',
        (t) =>
          (resource(t, 'MonthlyBudget').NotificationsWithSubscribers[0].Notification.ThresholdType =
            'ABSOLUTE_VALUE'),
        /budget emails/,
      ],
      ['a zero budget', (t) => (settings(t, 'test').MonthlyBudgetUsd = 0), /budget amount/],
      [
        'immediate anomaly emails',
        (t) => (resource(t, 'CostAnomalySubscription').Frequency = 'IMMEDIATE'),
        /daily anomaly emails/,
        'prod',
      ],
      [
        'backups kept 1 day',
        (t) => (settings(t, 'prod').VaultRetentionDays = 1),
        /backups kept 35 days/,
        'prod',
      ],
      [
        'an export without the prefix',
        (t) => (t.Outputs!.UserPoolId!.Export = { Name: 'UserPoolId' }),
        /export UserPoolId prefixed/,
      ],
    ];

    it.each(mutations)('%s', (_name, mutate, problem, env = 'test') => {
      const broken = structuredClone(merged);
      mutate(broken);
      expect(problems(broken, env)).toContainEqual(expect.stringMatching(problem));
    });
  });
});
