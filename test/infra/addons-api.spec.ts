/**
 * The api's workload addons (copilot/api/addons): what cfn-lint does not check. Alarm metrics, statistics and
 * actions; the manifest's rollback alarms exist; the dashboard body is JSON once substituted and only shows metrics
 * that exist (the app's ones as the manifest's collector writes them); the telemetry policy reaches the task role;
 * addons.parameters.yml cannot create a circular dependency with the service stack.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  addonParameters,
  loadTemplate,
  mergeAddons,
  parseCloudFormation,
  type Template,
} from '../../tools/deploy/addons.js';
import { ROOT } from '../support/process.js';

const FOLDER = join(ROOT, 'copilot', 'api', 'addons');
const MANIFEST_PATH = join(ROOT, 'copilot', 'api', 'manifest.yml');
const ENVIRONMENTS = ['test', 'prod'] as const;
type Env = (typeof ENVIRONMENTS)[number];
const APP = 'runway';
const WORKLOAD = 'api';
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const TARGET_GROUP = 'targetgroup/runwa-Targe-1A2B3C4D/0123456789abcdef';
const loadBalancerOf = (env: Env) => `app/${APP}-${env}-PublicLoadBalancer/0123456789abcdef`;
const clusterOf = (env: Env) => `${APP}-${env}-Cluster-AbCdEf012345`;

/** Metrics that exist, with the dimension sets they are published with. `Runway` is what the collector writes. */
const METRICS: Record<string, Record<string, string[][]>> = {
  'AWS/ApplicationELB': {
    RequestCount: [['LoadBalancer', 'TargetGroup'], ['LoadBalancer']],
    HTTPCode_Target_5XX_Count: [['LoadBalancer', 'TargetGroup'], ['LoadBalancer']],
    HTTPCode_Target_4XX_Count: [['LoadBalancer', 'TargetGroup'], ['LoadBalancer']],
    HTTPCode_ELB_5XX_Count: [['LoadBalancer']],
    TargetResponseTime: [['LoadBalancer', 'TargetGroup'], ['LoadBalancer']],
    HealthyHostCount: [['LoadBalancer', 'TargetGroup']],
    UnHealthyHostCount: [['LoadBalancer', 'TargetGroup']],
  },
  'AWS/ECS': {
    CPUUtilization: [['ClusterName', 'ServiceName'], ['ClusterName']],
    MemoryUtilization: [['ClusterName', 'ServiceName'], ['ClusterName']],
  },
  CloudWatchSynthetics: {
    SuccessPercent: [['CanaryName']],
    Failed: [['CanaryName']],
    Duration: [['CanaryName']],
  },
  Runway: {
    'http.server.request.duration': [['http.route', 'http.request.method', 'http.response.status_code']],
    'db.client.connection.count': [['db.client.connection.state']],
    'db.client.connection.pending_requests': [[]],
    'runway.users.provisioned': [[]],
    'runway.projects.created': [[]],
    'process.memory.usage': [[]],
    'nodejs.eventloop.delay.p99': [[]],
  },
};
/** Histograms reach CloudWatch as statistic sets (min/max/sum/count): no percentiles. */
const HISTOGRAMS = new Set(['http.server.request.duration']);
/** The app's metrics the dashboard must show. */
const APP_METRICS = [
  'http.server.request.duration',
  'runway.users.provisioned',
  'runway.projects.created',
  'process.memory.usage',
  'db.client.connection.count',
  'nodejs.eventloop.delay.p99',
];
const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
const PERCENTILE = /^p(\d{1,2}(\.\d+)?|100)$/;
const OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
];
/** Alarms of alarms.yml, the manifest's rollback alarms, and their expected shape. */
const OWN_ALARMS = ['target-5xx', 'p99-latency', 'unhealthy-hosts'];
/** Parent-stack ids (lb-web/cf.yml) that never wait for the addons stack: TargetGroup only needs the VPC. */
const SAFE_PARENT_REFERENCES = new Set(['TargetGroup', 'AppName', 'EnvName', 'WorkloadName']);
const RESERVED = ['App', 'Env', 'Name'];

type Resource = Template['Resources'][string];
type Json = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------------------
// A small evaluator of the intrinsics these templates use, for one environment.

interface Context {
  template: Template;
  env: Env;
  parameters: Record<string, unknown>;
}

function parameterValue(context: Context, name: string): unknown {
  const builtIn: Record<string, string> = {
    App: APP,
    Env: context.env,
    Name: WORKLOAD,
    'AWS::Region': REGION,
    'AWS::AccountId': ACCOUNT,
    'AWS::Partition': 'aws',
    TargetGroupFullName: TARGET_GROUP,
  };
  if (name in builtIn) return builtIn[name];
  if (name in context.parameters) return context.parameters[name];
  const declared = context.template.Parameters?.[name];
  if (declared && 'Default' in declared) return declared.Default;
  if (name in context.template.Resources) return `{{${name}}}`;
  throw new Error(`unknown reference ${name}`);
}

function importValue(context: Context, name: string): string {
  const prefix = `${APP}-${context.env}-`;
  const exports: Record<string, string> = {
    PublicLoadBalancerFullName: loadBalancerOf(context.env),
    PublicLoadBalancerDNS: `${APP}-${context.env}-lb-123.${REGION}.elb.amazonaws.com`,
    ClusterId: clusterOf(context.env),
  };
  const suffix = name.startsWith(prefix) ? name.slice(prefix.length) : undefined;
  if (suffix === undefined || !(suffix in exports)) {
    // Other environment exports exist (cognito, database…): a stable placeholder is enough for them.
    if (suffix !== undefined) return `{{import:${suffix}}}`;
    throw new Error(`import ${name} is not an export of the environment stack ${prefix}…`);
  }
  return exports[suffix]!;
}

function condition(context: Context, name: string): boolean {
  const definition = context.template.Conditions?.[name];
  if (definition === undefined) throw new Error(`unknown condition ${name}`);
  return Boolean(resolve(definition, context));
}

function substitute(text: string, variables: Record<string, unknown>, context: Context): string {
  return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
    if (literal) return `\${${name}}`;
    if (name in variables) return String(variables[name]);
    if (name.includes('.') && !name.startsWith('AWS::')) {
      const [resource, attribute] = name.split(/\.(.*)/s) as [string, string];
      return String(resolve({ 'Fn::GetAtt': [resource, attribute] }, context));
    }
    return String(parameterValue(context, name));
  });
}

function resolve(node: unknown, context: Context): unknown {
  if (Array.isArray(node)) return node.map((item) => resolve(item, context));
  if (node === null || typeof node !== 'object') return node;
  const entries = Object.entries(node as Json);
  const [key, value] = entries[0] ?? [];
  if (entries.length === 1 && key !== undefined) {
    switch (key) {
      case 'Ref':
        return parameterValue(context, value as string);
      case 'Fn::Sub': {
        const [text, variables] = (Array.isArray(value) ? value : [value, {}]) as [string, Json];
        const resolved = Object.fromEntries(
          Object.entries(variables).map(([name, v]) => [name, resolve(v, context)]),
        );
        return substitute(text, resolved, context);
      }
      case 'Fn::ImportValue':
        return importValue(context, String(resolve(value, context)));
      case 'Fn::GetAtt': {
        const [id, attribute] = value as [string, string];
        const resource = context.template.Resources[id];
        if (!resource) throw new Error(`GetAtt of unknown resource ${id}`);
        if (resource.Type === 'AWS::CloudWatch::Alarm' && attribute === 'Arn') {
          const name = String(resolve(resource.Properties?.AlarmName, context));
          return `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
        }
        return `{{${id}.${attribute}}}`;
      }
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = value as [string, unknown, unknown];
        return resolve(condition(context, name) ? whenTrue : whenFalse, context);
      }
      case 'Fn::Equals': {
        const [a, b] = value as [unknown, unknown];
        return JSON.stringify(resolve(a, context)) === JSON.stringify(resolve(b, context));
      }
      case 'Fn::Not':
        return !resolve((value as unknown[])[0], context);
      case 'Fn::Join': {
        const [separator, items] = value as [string, unknown[]];
        return (resolve(items, context) as unknown[]).map(String).join(separator);
      }
    }
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolve(v, context)]));
}

// ---------------------------------------------------------------------------------------------------------------
// Checks: each returns the problems it finds, so the broken fixtures below can show that they catch them.

const resourcesOf = (template: Template, type: string): [string, Resource][] =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((item) => b.includes(item));

function metricProblems(where: string, namespace: string, name: string, dimensions: string[]): string[] {
  const metrics = METRICS[namespace];
  if (!metrics) return [`${where}: unknown namespace ${namespace}`];
  const sets = metrics[name];
  if (!sets) return [`${where}: ${namespace} has no metric ${name}`];
  if (!sets.some((set) => sameSet(set, dimensions))) {
    return [`${where}: ${namespace} ${name} is not published with dimensions [${dimensions.join(', ')}]`];
  }
  return [];
}

function statisticProblems(where: string, namespace: string, name: string, stat: unknown): string[] {
  if (typeof stat !== 'string') return [`${where}: no statistic`];
  if (!STATISTICS.includes(stat) && !PERCENTILE.test(stat)) return [`${where}: unknown statistic ${stat}`];
  if (namespace === 'Runway' && HISTOGRAMS.has(name) && PERCENTILE.test(stat)) {
    return [`${where}: ${name} reaches CloudWatch as a statistic set, ${stat} does not exist`];
  }
  return [];
}

function alarmProblems(template: Template, env: Env): string[] {
  const context: Context = { template, env, parameters: {} };
  const problems: string[] = [];
  const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
  if (alarms.length === 0) problems.push('no alarm');
  const topic = template.Resources.AlarmTopic;
  if (topic?.Type !== 'AWS::SNS::Topic') problems.push('AlarmTopic is not an SNS topic');
  for (const [id, alarm] of alarms) {
    const p = (alarm.Properties ?? {}) as Json;
    const name = p.AlarmName as { 'Fn::Sub'?: unknown } | undefined;
    if (typeof name?.['Fn::Sub'] !== 'string' || !name['Fn::Sub'].startsWith('${App}-${Env}-${Name}-')) {
      problems.push(
        `${id}: AlarmName must be !Sub '\${App}-\${Env}-\${Name}-…' (fixed, for rollback_alarms)`,
      );
    }
    const dimensions = ((p.Dimensions ?? []) as { Name: string; Value: unknown }[]).map((d) => d.Name);
    problems.push(...metricProblems(id, String(p.Namespace), String(p.MetricName), dimensions));
    if ('Statistic' in p === 'ExtendedStatistic' in p) {
      problems.push(`${id}: exactly one of Statistic and ExtendedStatistic is allowed`);
    } else if ('Statistic' in p && !STATISTICS.includes(String(p.Statistic))) {
      problems.push(`${id}: unknown Statistic ${String(p.Statistic)}`);
    } else if ('ExtendedStatistic' in p && !PERCENTILE.test(String(p.ExtendedStatistic))) {
      problems.push(`${id}: ExtendedStatistic ${String(p.ExtendedStatistic)} is not a percentile`);
    }
    const period = Number(p.Period);
    const evaluations = Number(p.EvaluationPeriods);
    const datapoints = Number(p.DatapointsToAlarm ?? evaluations);
    if (!([10, 30].includes(period) || (period >= 60 && period % 60 === 0))) {
      problems.push(`${id}: Period ${period} must be 10, 30 or a multiple of 60`);
    }
    if (!(
      evaluations >= 1 &&
      datapoints >= 1 &&
      datapoints <= evaluations &&
      period * evaluations <= 86_400
    )) {
      problems.push(
        `${id}: ${datapoints} of ${evaluations} periods of ${period} s is not a valid evaluation`,
      );
    }
    if (!OPERATORS.includes(String(p.ComparisonOperator))) problems.push(`${id}: bad ComparisonOperator`);
    if (typeof p.Threshold !== 'number') problems.push(`${id}: Threshold must be a number`);
    if (!['breaching', 'notBreaching', 'ignore', 'missing'].includes(String(p.TreatMissingData))) {
      problems.push(`${id}: TreatMissingData must be set explicitly`);
    }
    const actions = (p.AlarmActions ?? []) as unknown[];
    if (!actions.some((action) => JSON.stringify(action) === JSON.stringify({ Ref: 'AlarmTopic' }))) {
      problems.push(`${id}: AlarmActions must notify AlarmTopic`);
    }
    if (p.Namespace === 'AWS/ApplicationELB') {
      const values = Object.fromEntries(
        (p.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, resolve(d.Value, context)]),
      );
      if (values.LoadBalancer !== loadBalancerOf(env))
        problems.push(`${id}: LoadBalancer is not the env's ALB`);
      if ('TargetGroup' in values && values.TargetGroup !== TARGET_GROUP) {
        problems.push(`${id}: TargetGroup is not the TargetGroupFullName parameter`);
      }
    }
  }
  return problems;
}

/** The alarms of alarms.yml: the three names, per-alarm choices, and that OK notifications are sent too. */
function ownAlarmProblems(template: Template, env: Env): string[] {
  const context: Context = { template, env, parameters: {} };
  const problems: string[] = [];
  const byName = new Map(
    resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([id, alarm]) => [
      String(resolve(alarm.Properties?.AlarmName, context)),
      { id, p: alarm.Properties ?? {} },
    ]),
  );
  for (const suffix of OWN_ALARMS) {
    const alarm = byName.get(`${APP}-${env}-${WORKLOAD}-${suffix}`);
    if (!alarm) {
      problems.push(`no alarm named ${APP}-${env}-${WORKLOAD}-${suffix}`);
      continue;
    }
    const { id, p } = alarm;
    if (p.TreatMissingData !== 'notBreaching') problems.push(`${id}: missing data must be notBreaching`);
    if (JSON.stringify(p.OKActions) !== JSON.stringify([{ Ref: 'AlarmTopic' }])) {
      problems.push(`${id}: OKActions must notify AlarmTopic`);
    }
    const expected: Json = {
      'target-5xx': { MetricName: 'HTTPCode_Target_5XX_Count', Statistic: 'Sum' },
      'p99-latency': { MetricName: 'TargetResponseTime', ExtendedStatistic: 'p99', Threshold: 1 },
      'unhealthy-hosts': { MetricName: 'UnHealthyHostCount', Statistic: 'Maximum', Threshold: 1 },
    }[suffix] as Json;
    for (const [key, value] of Object.entries(expected)) {
      if (p[key] !== value) problems.push(`${id}: ${key} should be ${String(value)}`);
    }
  }
  return problems;
}

function topicProblems(template: Template, env: Env): string[] {
  const context: Context = { template, env, parameters: {} };
  const problems: string[] = [];
  const key = (template.Resources.AlarmTopic?.Properties ?? {}).KmsMasterKeyId as
    { Ref?: string } | undefined;
  const keyResource = key?.Ref ? template.Resources[key.Ref] : undefined;
  if (keyResource?.Type !== 'AWS::KMS::Key') {
    problems.push(
      'AlarmTopic must be encrypted with a customer managed key (CloudWatch cannot use alias/aws/sns)',
    );
  } else {
    const statements = (resolve(keyResource.Properties?.KeyPolicy, context) as { Statement: Json[] })
      .Statement;
    const forCloudWatch = statements.find(
      (s) =>
        s.Effect === 'Allow' && (s.Principal as Json | undefined)?.Service === 'cloudwatch.amazonaws.com',
    );
    const actions = [forCloudWatch?.Action].flat();
    if (!actions.includes('kms:Decrypt') || !actions.includes('kms:GenerateDataKey*')) {
      problems.push('the topic key must let cloudwatch.amazonaws.com Decrypt and GenerateDataKey*');
    }
  }
  const subscriptions = resourcesOf(template, 'AWS::SNS::Subscription').map(([, s]) => s.Properties ?? {});
  if (
    !subscriptions.some(
      (s) =>
        s.Protocol === 'email' &&
        JSON.stringify(s.Endpoint) === JSON.stringify({ Ref: 'AlarmEmail' }) &&
        JSON.stringify(s.TopicArn) === JSON.stringify({ Ref: 'AlarmTopic' }),
    )
  ) {
    problems.push('AlarmTopic needs an email subscription to AlarmEmail');
  }
  return problems;
}

interface DashboardMetric {
  where: string;
  namespace: string;
  name: string;
  dimensions: string[];
  stat: unknown;
}

/** SEARCH('{Namespace,"dim",…} MetricName="x" …', 'Stat', period) → the metrics it can find. */
function searchMetric(where: string, expression: string): DashboardMetric | string {
  const match = /^SEARCH\('\{([^}]*)\}\s*([^']*)',\s*'([^']+)',\s*(\d+)\)$/.exec(expression);
  if (!match) return `${where}: unreadable expression ${expression}`;
  const [namespace = '', ...dimensions] = match[1]!
    .split(',')
    .map((part) => part.trim().replace(/^"|"$/g, ''));
  const name = /MetricName="([^"]+)"/.exec(match[2]!)?.[1];
  if (!name) return `${where}: a SEARCH must name its metric (MetricName="…")`;
  for (const [, dimension] of match[2]!.matchAll(/(?:^|\s)"?([\w.]+)"?="[^"]*"/g)) {
    if (dimension !== 'MetricName' && !dimensions.includes(dimension!)) {
      return `${where}: SEARCH filters on ${dimension} which is not in its schema`;
    }
  }
  return { where, namespace, name, dimensions, stat: match[3] };
}

function dashboardMetrics(body: Json): { metrics: DashboardMetric[]; alarms: string[]; problems: string[] } {
  const metrics: DashboardMetric[] = [];
  const alarms: string[] = [];
  const problems: string[] = [];
  const widgets = (body.widgets ?? []) as Json[];
  if (widgets.length === 0) problems.push('the dashboard has no widget');
  const cells = new Map<string, number>();
  widgets.forEach((widget, index) => {
    const where = `widget ${index} (${String((widget.properties as Json | undefined)?.title)})`;
    const [x, y, width, height] = [widget.x, widget.y, widget.width, widget.height].map(Number);
    if (![x, y, width, height].every(Number.isInteger) || x! < 0 || width! < 1 || x! + width! > 24) {
      problems.push(`${where}: outside the 24-column grid`);
    }
    for (let row = y!; row < y! + height!; row += 1) {
      for (let column = x!; column < x! + width!; column += 1) {
        const other = cells.get(`${row},${column}`);
        if (other !== undefined) problems.push(`${where}: overlaps widget ${other}`);
        cells.set(`${row},${column}`, index);
      }
    }
    const properties = (widget.properties ?? {}) as Json;
    if (widget.type === 'alarm') {
      alarms.push(...((properties.alarms ?? []) as string[]));
      return;
    }
    if (widget.type !== 'metric') return;
    if (properties.region !== REGION) problems.push(`${where}: region must be \${AWS::Region}`);
    for (const entry of (properties.metrics ?? []) as unknown[][]) {
      const options = (typeof entry.at(-1) === 'object' ? entry.at(-1) : {}) as Json;
      if (typeof options.expression === 'string') {
        const found = searchMetric(where, options.expression);
        if (typeof found === 'string') problems.push(found);
        else metrics.push(found);
        continue;
      }
      const [namespace, name, ...rest] = entry.filter((item): item is string => typeof item === 'string');
      if (rest.length % 2 !== 0) problems.push(`${where}: dimensions come in name/value pairs`);
      const dimensions = rest.filter((_, i) => i % 2 === 0);
      for (const value of rest.filter((_, i) => i % 2 === 1)) {
        if (value === '' || value.includes('${')) problems.push(`${where}: dimension value "${value}"`);
      }
      metrics.push({
        where,
        namespace: namespace ?? '',
        name: name ?? '',
        dimensions,
        stat: options.stat ?? properties.stat,
      });
    }
  });
  return { metrics, alarms, problems };
}

function dashboardBody(template: Template, env: Env): { body?: Json; problems: string[] } {
  const dashboards = resourcesOf(template, 'AWS::CloudWatch::Dashboard');
  if (dashboards.length !== 1) return { problems: [`expected one dashboard, found ${dashboards.length}`] };
  const [id, dashboard] = dashboards[0]!;
  const context: Context = { template, env, parameters: {} };
  const problems: string[] = [];
  const name = resolve(dashboard.Properties?.DashboardName, context);
  if (name !== `${APP}-${env}-${WORKLOAD}`) problems.push(`${id}: DashboardName ${String(name)}`);
  const text = resolve(dashboard.Properties?.DashboardBody, context);
  if (typeof text !== 'string') return { problems: [...problems, `${id}: DashboardBody must be a string`] };
  try {
    return { body: JSON.parse(text) as Json, problems };
  } catch (error) {
    return { problems: [...problems, `${id}: DashboardBody is not JSON once substituted: ${String(error)}`] };
  }
}

function dashboardProblems(template: Template, env: Env): string[] {
  const { body, problems } = dashboardBody(template, env);
  if (!body) return problems;
  const found = dashboardMetrics(body);
  problems.push(...found.problems);
  for (const metric of found.metrics) {
    problems.push(...metricProblems(metric.where, metric.namespace, metric.name, metric.dimensions));
    problems.push(...statisticProblems(metric.where, metric.namespace, metric.name, metric.stat));
  }
  const shown = new Set(found.metrics.filter((m) => m.namespace === 'Runway').map((m) => m.name));
  for (const name of APP_METRICS.filter((metric) => !shown.has(metric))) {
    problems.push(`the dashboard does not show the app metric ${name}`);
  }
  const context: Context = { template, env, parameters: {} };
  const alarmArns = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(
    ([id]) => resolve({ 'Fn::GetAtt': [id, 'Arn'] }, context) as string,
  );
  for (const arn of found.alarms.filter((alarm) => !alarmArns.includes(alarm))) {
    problems.push(`the alarm widget shows ${arn}, which is not an alarm of this template`);
  }
  return problems;
}

/** `*` and `?` of IAM resource patterns. */
const iamMatches = (pattern: string, arn: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(arn);

function policyProblems(template: Template, env: Env, logGroup: string): string[] {
  const context: Context = { template, env, parameters: {} };
  const problems: string[] = [];
  const policyOutputs = Object.entries(template.Outputs ?? {}).filter(([, output]) => {
    const ref = (output.Value as { Ref?: string } | null)?.Ref;
    return ref !== undefined && template.Resources[ref]?.Type === 'AWS::IAM::ManagedPolicy';
  });
  if (policyOutputs.length === 0) {
    return [
      'no output is a !Ref of an AWS::IAM::ManagedPolicy: Copilot would not attach it to the task role',
    ];
  }
  const statements = policyOutputs.flatMap(([, output]) => {
    const policy = template.Resources[(output.Value as { Ref: string }).Ref]!;
    return (resolve(policy.Properties?.PolicyDocument, context) as { Statement: Json[] }).Statement;
  });
  const allows = (action: string, resource: string) =>
    statements.some(
      (s) =>
        s.Effect === 'Allow' &&
        [s.Action].flat().includes(action) &&
        [s.Resource].flat().some((pattern) => iamMatches(String(pattern), resource)),
    );
  const xray = ['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets'];
  for (const action of xray.map((name) => `xray:${name}`)) {
    if (!allows(action, '*')) problems.push(`the policy does not allow ${action}`);
  }
  const group = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${logGroup}`;
  for (const [action, resource] of [
    ['logs:PutLogEvents', `${group}:log-stream:ecs-task-1`],
    ['logs:CreateLogStream', `${group}:log-stream:ecs-task-1`],
    ['logs:CreateLogGroup', group],
    ['logs:PutRetentionPolicy', group],
  ] as const) {
    if (!allows(action, resource)) problems.push(`the policy does not allow ${action} on ${resource}`);
  }
  const other = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other:log-stream:x`;
  if (allows('logs:PutLogEvents', other)) problems.push('the policy lets the task write any log group');
  for (const statement of statements) {
    if ([statement.Action].flat().some((action) => action === '*' || String(action).endsWith(':*'))) {
      problems.push(`statement ${String(statement.Sid)} allows a whole service`);
    }
  }
  return problems;
}

/** References of addons.parameters.yml to the service stack, and what the templates need from it. */
function parameterProblems(template: Template, parameters: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(parameters)) {
    if (RESERVED.includes(name)) problems.push(`${name} is passed by Copilot and must not be in the file`);
    else if (!template.Parameters?.[name]) problems.push(`${name} is not a parameter of the templates`);
  }
  for (const [name, declared] of Object.entries(template.Parameters ?? {})) {
    if (!RESERVED.includes(name) && !('Default' in declared) && !(name in parameters)) {
      problems.push(`${name} has no Default and no value in addons.parameters.yml`);
    }
    const value = parameters[name];
    if (typeof value === 'string' && typeof declared.AllowedPattern === 'string') {
      if (!new RegExp(declared.AllowedPattern).test(value))
        problems.push(`${name}: ${value} fails AllowedPattern`);
    }
  }
  const references = (node: unknown): string[] => {
    if (Array.isArray(node)) return node.flatMap(references);
    if (node === null || typeof node !== 'object') return [];
    return Object.entries(node as Json).flatMap(([key, value]) => {
      if (key === 'Ref') return [String(value)];
      if (key === 'Fn::GetAtt') return [String((value as string[])[0])];
      if (key === 'Fn::Sub') {
        const text = String(Array.isArray(value) ? value[0] : value);
        return [...text.matchAll(/\$\{([^}]+)\}/g)]
          .map((m) => m[1]!)
          .filter((name) => !name.startsWith('!') && !name.startsWith('AWS::'))
          .map((name) => name.split('.')[0]!);
      }
      return references(value);
    });
  };
  for (const reference of references(parameters)) {
    if (!SAFE_PARENT_REFERENCES.has(reference)) {
      problems.push(
        `addons.parameters.yml refers to ${reference} of the service stack: the task role waits for this ` +
          `stack's outputs, so anything that waits for the task role or the service is a circular dependency`,
      );
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------
// The manifest: rollback alarms and the collector's awsemf configuration.

interface Manifest {
  name: string;
  deployment?: { rollback_alarms?: unknown };
  environments?: Record<string, { deployment?: { rollback_alarms?: unknown } } | undefined>;
  sidecars?: Record<string, { variables?: Record<string, unknown> }>;
}

const interpolate = (text: string, env: Env) =>
  text.replaceAll('${COPILOT_APPLICATION_NAME}', APP).replaceAll('${COPILOT_ENVIRONMENT_NAME}', env);

function rollbackProblems(manifest: Manifest, template: Template, env: Env): string[] {
  // Lists are replaced, not merged, by an environment override.
  const listed =
    manifest.environments?.[env]?.deployment?.rollback_alarms ?? manifest.deployment?.rollback_alarms;
  if (!Array.isArray(listed) || listed.length === 0)
    return [`${env}: the manifest lists no rollback alarm names`];
  const context: Context = { template, env, parameters: {} };
  const names = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) =>
    String(resolve(alarm.Properties?.AlarmName, context)),
  );
  const problems = (listed as string[])
    .map((name) => interpolate(name, env))
    .filter((name) => !names.includes(name))
    .map((name) => `${env}: rollback alarm ${name} is not an alarm of copilot/api/addons`);
  for (const suffix of OWN_ALARMS) {
    const name = `${APP}-${env}-${manifest.name}-${suffix}`;
    if (!(listed as string[]).map((n) => interpolate(n, env)).includes(name)) {
      problems.push(`${env}: ${name} should roll deployments back`);
    }
  }
  return problems;
}

interface EmfExporter {
  namespace?: string;
  log_group_name?: string;
  metric_declarations?: { dimensions: string[][]; metric_name_selectors: string[] }[];
}

function emfExporter(manifest: Manifest, env: Env): EmfExporter {
  for (const sidecar of Object.values(manifest.sidecars ?? {})) {
    for (const value of Object.values(sidecar.variables ?? {})) {
      if (typeof value !== 'string' || !value.includes('awsemf')) continue;
      const config = parse(interpolate(value, env)) as { exporters?: { awsemf?: EmfExporter } };
      if (config.exporters?.awsemf) return config.exporters.awsemf;
    }
  }
  throw new Error('no sidecar of the manifest configures an awsemf exporter');
}

/** Does the collector turn `name` with these dimensions into a CloudWatch metric? */
function emfPublishes(exporter: EmfExporter, name: string, dimensions: string[]): boolean {
  return (exporter.metric_declarations ?? []).some(
    (declaration) =>
      declaration.metric_name_selectors.some((selector) => new RegExp(selector).test(name)) &&
      declaration.dimensions.some((set) => sameSet(set, dimensions)),
  );
}

// ---------------------------------------------------------------------------------------------------------------

const merged = mergeAddons(FOLDER);
const alarmsFile = loadTemplate(join(FOLDER, 'alarms.yml'));
const parameters = addonParameters(FOLDER);
const manifest = parse(readFileSync(MANIFEST_PATH, 'utf8')) as Manifest;
const metricsLogGroup = (template: Template, env: Env) =>
  String(
    resolve(template.Resources.MetricsLogGroup?.Properties?.LogGroupName, { template, env, parameters: {} }),
  );
const clone = (template: Template): Template => structuredClone(template);

describe('api workload addons', () => {
  it('merge into one template; alarms.yml owns IsProd and AlarmTopic for the folder (canary.yml uses them)', () => {
    expect(alarmsFile.Conditions?.IsProd).toEqual({ 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] });
    expect(alarmsFile.Resources.AlarmTopic?.Type).toBe('AWS::SNS::Topic');
    expect(merged.Conditions?.IsProd).toEqual(alarmsFile.Conditions?.IsProd);
    expect(Object.keys(merged.Parameters ?? {})).toEqual(expect.arrayContaining(RESERVED));
  });

  describe.each(ENVIRONMENTS)('in %s', (env) => {
    it('has the three fixed alarm names, each a valid metric alarm that notifies the topic', () => {
      expect(alarmProblems(merged, env)).toEqual([]);
      expect(ownAlarmProblems(alarmsFile, env)).toEqual([]);
    });

    it("has every alarm of the manifest's rollback_alarms", () => {
      expect(rollbackProblems(manifest, merged, env)).toEqual([]);
    });

    it('encrypts the topic with a key CloudWatch may use, and mails AlarmEmail', () => {
      expect(topicProblems(merged, env)).toEqual([]);
    });

    it('has a dashboard whose body is JSON and whose widgets show metrics that exist', () => {
      expect(dashboardProblems(merged, env)).toEqual([]);
    });

    it("shows the app's metrics as the manifest's collector writes them (namespace, dimensions)", () => {
      const exporter = emfExporter(manifest, env);
      expect(exporter.namespace).toBe('Runway');
      expect(exporter.log_group_name).toBe(metricsLogGroup(merged, env));
      const { body } = dashboardBody(merged, env);
      const appMetrics = dashboardMetrics(body!).metrics.filter((metric) => metric.namespace === 'Runway');
      const unpublished = appMetrics.filter((m) => !emfPublishes(exporter, m.name, m.dimensions));
      expect(unpublished.map((m) => `${m.name} [${m.dimensions.join(', ')}]`)).toEqual([]);
    });

    it('lets the collector write traces and its metrics log group, through a policy Copilot attaches', () => {
      expect(metricsLogGroup(merged, env)).toBe(`/runway/${env}/metrics`);
      expect(policyProblems(merged, env, `/runway/${env}/metrics`)).toEqual([]);
    });
  });

  it('addons.parameters.yml gives every parameter and only refers to the target group of the service stack', () => {
    expect(parameterProblems(merged, parameters)).toEqual([]);
    expect(parameters.TargetGroupFullName).toEqual({ 'Fn::GetAtt': ['TargetGroup', 'TargetGroupFullName'] });
  });

  describe('catches a broken copy', () => {
    it('of an alarm', () => {
      const both = clone(merged);
      both.Resources.P99LatencyAlarm!.Properties!.Statistic = 'Average';
      expect(alarmProblems(both, 'test')).toContain(
        'P99LatencyAlarm: exactly one of Statistic and ExtendedStatistic is allowed',
      );
      const typo = clone(merged);
      typo.Resources.Target5xxAlarm!.Properties!.MetricName = 'HTTPCode_Target_5xx_Count';
      expect(alarmProblems(typo, 'test')).toContain(
        'Target5xxAlarm: AWS/ApplicationELB has no metric HTTPCode_Target_5xx_Count',
      );
      const silent = clone(merged);
      delete silent.Resources.UnhealthyHostsAlarm!.Properties!.AlarmActions;
      expect(alarmProblems(silent, 'test')).toContain(
        'UnhealthyHostsAlarm: AlarmActions must notify AlarmTopic',
      );
      const dimension = clone(merged);
      (dimension.Resources.UnhealthyHostsAlarm!.Properties!.Dimensions as unknown[]).pop();
      expect(alarmProblems(dimension, 'test')).toContain(
        'UnhealthyHostsAlarm: AWS/ApplicationELB UnHealthyHostCount is not published with dimensions [LoadBalancer]',
      );
    });

    it('of an alarm name, against the rollback alarms of the manifest', () => {
      const renamed = clone(merged);
      renamed.Resources.P99LatencyAlarm!.Properties!.AlarmName = {
        'Fn::Sub': '${App}-${Env}-${Name}-p95-latency',
      };
      expect(rollbackProblems(manifest, renamed, 'prod')).toContain(
        'prod: rollback alarm runway-prod-api-p99-latency is not an alarm of copilot/api/addons',
      );
      expect(ownAlarmProblems(renamed, 'prod')).toContain('no alarm named runway-prod-api-p99-latency');
      const unfixed = clone(merged);
      unfixed.Resources.Target5xxAlarm!.Properties!.AlarmName = { 'Fn::Sub': '${AWS::StackName}-5xx' };
      expect(alarmProblems(unfixed, 'test').join('\n')).toMatch(/Target5xxAlarm: AlarmName must be/);
    });

    it('of the topic', () => {
      const managedKey = clone(merged);
      managedKey.Resources.AlarmTopic!.Properties!.KmsMasterKeyId = 'alias/aws/sns';
      expect(topicProblems(managedKey, 'test').join('\n')).toMatch(/customer managed key/);
    });

    it('of the dashboard', () => {
      const body = (template: Template) =>
        (template.Resources.Dashboard!.Properties!.DashboardBody as { 'Fn::Sub': [string, Json] })['Fn::Sub'];
      const namespace = clone(merged);
      body(namespace)[0] = body(namespace)[0].replace(
        '"AWS/ApplicationELB", "RequestCount"',
        '"AWS/ALB", "RequestCount"',
      );
      expect(dashboardProblems(namespace, 'test').join('\n')).toMatch(/unknown namespace AWS\/ALB/);
      const json = clone(merged);
      body(json)[0] = body(json)[0].replace(/\]\s*\}\s*$/, '],}');
      expect(dashboardProblems(json, 'test').join('\n')).toMatch(/not JSON once substituted/);
      const percentile = clone(merged);
      body(percentile)[0] = body(percentile)[0].replace(
        /(http\.server\.request\.duration\\"', )'Average'/,
        "$1'p99'",
      );
      expect(body(percentile)[0]).toContain("'p99', 60)");
      expect(dashboardProblems(percentile, 'test').join('\n')).toMatch(/statistic set, p99 does not exist/);
      const dimension = clone(merged);
      body(dimension)[0] = body(dimension)[0].replace(
        '"db.client.connection.count", "db.client.connection.state", "used"',
        '"db.client.connection.count"',
      );
      expect(dashboardProblems(dimension, 'test').join('\n')).toMatch(
        /db.client.connection.count is not published/,
      );
      const exporter = emfExporter(manifest, 'test');
      expect(emfPublishes(exporter, 'db.client.connection.count', [])).toBe(false);
    });

    it('of the telemetry policy and the parameters file', () => {
      const getAtt = clone(merged);
      getAtt.Outputs!.TelemetryPolicy!.Value = { 'Fn::GetAtt': ['TelemetryPolicy', 'PolicyArn'] };
      expect(policyProblems(getAtt, 'test', '/runway/test/metrics').join('\n')).toMatch(/task role/);
      const wide = clone(merged);
      const statements = (wide.Resources.TelemetryPolicy!.Properties!.PolicyDocument as { Statement: Json[] })
        .Statement;
      statements.find((s) => s.Sid === 'WriteEmfMetrics')!.Resource = '*';
      expect(policyProblems(wide, 'test', '/runway/test/metrics')).toContain(
        'the policy lets the task write any log group',
      );
      const cycle = parseCloudFormation(
        'Parameters:\n  TargetGroupFullName: !GetAtt TargetGroup.TargetGroupFullName\n' +
          '  AlarmEmail: ops@example.com\n  ServiceName: !GetAtt Service.Name\n',
      ) as { Parameters: Record<string, unknown> };
      const problems = parameterProblems(merged, cycle.Parameters).join('\n');
      expect(problems).toMatch(/ServiceName is not a parameter/);
      expect(problems).toMatch(/refers to Service of the service stack/);
      expect(parameterProblems(merged, { TargetGroupFullName: 'x', App: 'runway' }).join('\n')).toMatch(
        /App is passed by Copilot[\s\S]*AlarmEmail has no Default[\s\S]*TargetGroupFullName: x fails AllowedPattern/,
      );
    });
  });
});
