/**
 * CloudFormation templates read as they would be for one environment, and what the checks of the api workload's
 * addons (test/infra/addons-*.spec.ts) share: the addons and manifest, sample deploy-time values, the metrics that
 * exist.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { addonParameters, mergeAddons, type Template } from '../../tools/deploy/addons.js';
import { ROOT } from './process.js';

export type Values = Record<string, unknown>;
export type Json = Record<string, unknown>;
export type Resource = Template['Resources'][string];

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

/** Pseudo parameters with sample values. */
const PSEUDO_PARAMETERS: Values = {
  'AWS::AccountId': ACCOUNT,
  'AWS::Region': REGION,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'runway-test-AddonsStack-ABC123',
};

const NO_VALUE = Symbol('AWS::NoValue');
const NOT_AN_INTRINSIC = Symbol('not an intrinsic');
const SUB_VARIABLE = /\$\{(!?)([^}]+)\}/g;

/**
 * A small evaluator of the intrinsics the templates use: parameters and pseudo parameters, Conditions, Fn::If,
 * Fn::Equals, Fn::Not, Fn::And, Fn::Or, Fn::FindInMap, Fn::Sub, Fn::Join and AWS::NoValue. What only exists at
 * deploy time (Ref or Fn::GetAtt of a resource, Fn::ImportValue of an export without a sample value) is left as is,
 * and so is a Fn::Sub that names it. A reference to anything the template does not declare throws.
 */
export class Evaluator {
  /**
   * `parameters`: values of the template's parameters (App, Env, those of addons.parameters.yml); a parameter without
   * one takes its Default. `exports`: sample values of other stacks' exports, by export name.
   */
  constructor(
    private readonly template: Template,
    private readonly parameters: Values,
    private readonly exports: Values = {},
  ) {}

  condition(name: string): boolean {
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`unknown condition ${name}`);
    return this.truth(definition);
  }

  /** The value with every intrinsic that can be known before deployment replaced by its result. */
  resolve(value: unknown): unknown {
    const result = this.evaluate(value);
    return result === NO_VALUE ? undefined : result;
  }

  /** The value as text; throws when it still depends on the deployment. */
  text(value: unknown): string {
    const result = this.resolve(value);
    if (typeof result !== 'string')
      throw new Error(`${JSON.stringify(value)} is not known before deployment`);
    return result;
  }

  /** The template's resources and outputs that exist for these parameters, with their values resolved. */
  instantiate(): Pick<Template, 'Resources' | 'Outputs'> {
    const exists = (entry: unknown) => {
      const name = (entry as { Condition?: string }).Condition;
      return name === undefined || this.condition(name);
    };
    const pick = <T>(section: Record<string, T> | undefined) =>
      Object.fromEntries(
        Object.entries(section ?? {})
          .filter(([, entry]) => exists(entry))
          .map(([id, entry]) => [id, this.resolve(entry) as T]),
      );
    return { Resources: pick(this.template.Resources), Outputs: pick(this.template.Outputs) };
  }

  private truth(value: unknown): boolean {
    const result = this.evaluate(value);
    if (typeof result !== 'boolean') throw new Error(`not a condition: ${JSON.stringify(value)}`);
    return result;
  }

  private evaluate(value: unknown): unknown {
    if (Array.isArray(value))
      return value.map((item) => this.evaluate(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Json);
    if (entries.length === 1) {
      const [key, argument] = entries[0]!;
      const intrinsic = this.intrinsic(key, argument);
      if (intrinsic !== NOT_AN_INTRINSIC) return intrinsic;
    }
    const result: Json = {};
    for (const [key, item] of entries) {
      const resolved = this.evaluate(item);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }

  private intrinsic(key: string, argument: unknown): unknown {
    const list = () => argument as unknown[];
    switch (key) {
      case 'Ref':
        return this.ref(argument as string);
      case 'Condition':
        return this.condition(argument as string);
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = argument as [string, unknown, unknown];
        return this.evaluate(this.condition(name) ? whenTrue : whenFalse);
      }
      case 'Fn::Equals': {
        const [left, right] = list().map((item) => this.evaluate(item));
        return JSON.stringify(left) === JSON.stringify(right);
      }
      case 'Fn::Not':
        return !this.truth(list()[0]);
      case 'Fn::And':
        return list().every((item) => this.truth(item));
      case 'Fn::Or':
        return list().some((item) => this.truth(item));
      case 'Fn::FindInMap':
        return this.findInMap(list().map((item) => this.evaluate(item)));
      case 'Fn::Sub':
        return this.sub(argument);
      case 'Fn::Join':
        return this.join(argument as [string, unknown]);
      case 'Fn::GetAtt': {
        const [resource, attribute] = argument as [string, string];
        return this.getAtt(resource, attribute);
      }
      case 'Fn::ImportValue':
        return this.importValue(this.evaluate(argument));
      default:
        return NOT_AN_INTRINSIC;
    }
  }

  private ref(name: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in PSEUDO_PARAMETERS) return PSEUDO_PARAMETERS[name];
    const parameter = this.template.Parameters?.[name];
    if (parameter) {
      const value = name in this.parameters ? this.parameters[name] : parameter.Default;
      if (value === undefined) throw new Error(`no value for parameter ${name}`);
      // A list parameter is given as a comma-separated string and referenced as a list.
      const isList = /^(CommaDelimitedList|List<.*>)$/.test(String(parameter.Type));
      return isList && typeof value === 'string' ? value.split(',').map((item) => item.trim()) : value;
    }
    if (name in this.template.Resources) return { Ref: name };
    throw new Error(`unknown reference ${name}`);
  }

  private getAtt(resource: string, attribute: string): unknown {
    const declared = this.template.Resources[resource];
    if (!declared) throw new Error(`Fn::GetAtt of unknown resource ${resource}`);
    // An alarm's ARN follows from its name: what a dashboard's alarm widget lists.
    if (declared.Type === 'AWS::CloudWatch::Alarm' && attribute === 'Arn') {
      const name = this.evaluate(declared.Properties?.AlarmName);
      if (typeof name === 'string') return `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${name}`;
    }
    return { 'Fn::GetAtt': [resource, attribute] };
  }

  private importValue(name: unknown): unknown {
    return typeof name === 'string' && name in this.exports
      ? this.exports[name]
      : { 'Fn::ImportValue': name };
  }

  private findInMap([map, first, second]: unknown[]): unknown {
    const mapping = (this.template.Mappings ?? {})[map as string] as Record<string, Json> | undefined;
    const found = mapping?.[first as string]?.[second as string];
    if (found === undefined)
      throw new Error(`Fn::FindInMap: no ${String(map)}.${String(first)}.${String(second)}`);
    return found;
  }

  private join([separator, items]: [string, unknown]): unknown {
    const list = this.evaluate(items);
    return Array.isArray(list) && list.every((item) => typeof item === 'string')
      ? list.join(separator)
      : { 'Fn::Join': [separator, list] };
  }

  private sub(argument: unknown): unknown {
    const [text, variables] = typeof argument === 'string' ? [argument, {}] : (argument as [string, Values]);
    const local = Object.fromEntries(
      Object.entries(variables).map(([name, item]) => [name, this.evaluate(item)]),
    );
    const values = new Map<string, unknown>();
    for (const [, literal, name] of text.matchAll(SUB_VARIABLE)) {
      if (!literal) values.set(name!, name! in local ? local[name!] : this.variable(name!));
    }
    const known = (value: unknown) => typeof value === 'string' || typeof value === 'number';
    const resolved = [...values.values()].every(known);
    // `${!Name}` stands for the text `${Name}`, but only once nothing is left for CloudFormation to substitute.
    const result = text.replace(SUB_VARIABLE, (whole, literal: string, name: string) => {
      if (literal) return resolved ? `\${${name}}` : whole;
      const value = values.get(name);
      return known(value) ? String(value) : whole;
    });
    return resolved ? result : { 'Fn::Sub': typeof argument === 'string' ? result : [result, local] };
  }

  /** `${Name}` is a Ref, `${Resource.Attribute}` a Fn::GetAtt. */
  private variable(name: string): unknown {
    if (name.startsWith('AWS::') || !name.includes('.')) return this.ref(name);
    const [resource, attribute] = name.split(/\.(.*)/s) as [string, string];
    return this.getAtt(resource, attribute);
  }
}

/** The values of an addons.parameters.yml known before deployment; the others come from the parent stack. */
export function literalParameters(folder: string): Values {
  return Object.fromEntries(
    Object.entries(addonParameters(folder)).filter(([, value]) => typeof value !== 'object'),
  );
}

/** The environment addons merged as Copilot deploys them, and their resources for one environment's parameters. */
export const ENVIRONMENT_ADDONS = join(ROOT, 'copilot', 'environments', 'addons');
export const environmentAddons = mergeAddons(ENVIRONMENT_ADDONS);

export function environmentResources(
  parameters: Values = {},
  env: Env = 'prod',
): Record<string, { Type: string; Properties: Json; Condition?: string }> {
  return new Evaluator(environmentAddons, {
    App: APP,
    Env: env,
    VpcId: 'vpc-0123456789abcdef0',
    PrivateSubnets: 'subnet-0aaa,subnet-0bbb',
    ...literalParameters(ENVIRONMENT_ADDONS),
    ...parameters,
  }).instantiate().Resources as Record<string, { Type: string; Properties: Json; Condition?: string }>;
}

export const resourcesOf = (template: Template, type: string): [string, Resource][] =>
  Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);

export const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

// ---------------------------------------------------------------------------------------------------------------
// The api workload's addons (copilot/api/addons) and manifest, in each environment.

export const APP = 'runway';
export const WORKLOAD = 'api';
export const ENVIRONMENTS = ['test', 'prod'] as const;
export type Env = (typeof ENVIRONMENTS)[number];
export const API_ADDONS = join(ROOT, 'copilot', 'api', 'addons');
/** Parameters Copilot passes to every addon template. */
export const RESERVED = ['App', 'Env', 'Name'];
export const TARGET_GROUP = 'targetgroup/runwa-Targe-1A2B3C4D/0123456789abcdef';
export const loadBalancerOf = (env: Env) => `app/${APP}-${env}-PublicLoadBalancer/0123456789abcdef`;

/** Sample values of the environment stack's exports that the api addons import. */
function environmentExports(env: Env): Values {
  const prefix = `${APP}-${env}-`;
  return {
    [`${prefix}PublicLoadBalancerFullName`]: loadBalancerOf(env),
    [`${prefix}PublicLoadBalancerDNS`]: `${APP}-${env}-lb-123.${REGION}.elb.amazonaws.com`,
    [`${prefix}ClusterId`]: `${APP}-${env}-Cluster-AbCdEf012345`,
  };
}

/** The addons merged as Copilot deploys them, and what addons.parameters.yml passes them. */
export function loadApiAddons(): { merged: Template; parameters: Values } {
  return { merged: mergeAddons(API_ADDONS), parameters: addonParameters(API_ADDONS) };
}

/** `template` (of the api addons) as `env` deploys it, with a sample target group from the service stack. */
export function apiEvaluator(template: Template, env: Env): Evaluator {
  const parameters = { ...literalParameters(API_ADDONS), TargetGroupFullName: TARGET_GROUP };
  return new Evaluator(
    template,
    { App: APP, Env: env, Name: WORKLOAD, ...parameters },
    environmentExports(env),
  );
}

export const metricsLogGroup = (template: Template, env: Env) =>
  String(apiEvaluator(template, env).resolve(template.Resources.MetricsLogGroup?.Properties?.LogGroupName));

export interface Manifest {
  name: string;
  deployment?: { rollback_alarms?: unknown };
  environments?: Record<string, { deployment?: { rollback_alarms?: unknown } } | undefined>;
  sidecars?: Record<string, { variables?: Record<string, unknown> }>;
}

export const loadManifest = () =>
  parse(readFileSync(join(ROOT, 'copilot', WORKLOAD, 'manifest.yml'), 'utf8')) as Manifest;

/** A manifest value as Copilot gives it to `env`. */
export const interpolate = (text: string, env: Env) =>
  text.replaceAll('${COPILOT_APPLICATION_NAME}', APP).replaceAll('${COPILOT_ENVIRONMENT_NAME}', env);

// ---------------------------------------------------------------------------------------------------------------
// The CloudWatch metrics alarms and dashboard widgets may use.

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
    'db.client.connection.wait_time': [[]],
    'runway.users.provisioned': [[]],
    'runway.projects.created': [[]],
    'runway.tasks.callbacks_failed': [[]],
    'runway.tasks.emails_failed': [[]],
    'process.memory.usage': [[]],
    'nodejs.eventloop.delay.p99': [[]],
  },
};
export const STATISTICS = ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum'];
export const PERCENTILE = /^p(\d{1,2}(\.\d+)?|100)$/;

export const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && a.every((item) => b.includes(item));

/** The app's metrics (the collector's awsemf exporter): one namespace per environment. */
export const appNamespace = (env: Env): string => `Runway/${env}`;

export function metricProblems(
  where: string,
  namespace: string,
  name: string,
  dimensions: string[],
): string[] {
  const metrics = METRICS[namespace.startsWith('Runway/') ? 'Runway' : namespace];
  if (!metrics) return [`${where}: unknown namespace ${namespace}`];
  const sets = metrics[name];
  if (!sets) return [`${where}: ${namespace} has no metric ${name}`];
  if (!sets.some((set) => sameSet(set, dimensions))) {
    return [`${where}: ${namespace} ${name} is not published with dimensions [${dimensions.join(', ')}]`];
  }
  return [];
}
