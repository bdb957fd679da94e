/**
 * The api's alarms (copilot/api/addons/alarms.yml): what cfn-lint does not check. Alarm metrics, statistics and
 * actions, and the manifest's rollback alarms exist.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTemplate, type Template } from '../../tools/deploy/addons.js';
import {
  API_ADDONS,
  APP,
  apiEvaluator,
  appNamespace,
  ENVIRONMENTS,
  interpolate,
  loadApiAddons,
  loadBalancerOf,
  loadManifest,
  metricProblems,
  PERCENTILE,
  RESERVED,
  resourcesOf,
  sameJson,
  STATISTICS,
  TARGET_GROUP,
  WORKLOAD,
  type Env,
  type Json,
  type Manifest,
} from '../support/cloudformation.js';

const OPERATORS = [
  'GreaterThanOrEqualToThreshold',
  'GreaterThanThreshold',
  'LessThanThreshold',
  'LessThanOrEqualToThreshold',
];
/** Alarms of alarms.yml, the manifest's rollback alarms, and their expected shape. */
const OWN_ALARMS = ['target-5xx', 'p99-latency', 'unhealthy-hosts'];

function alarmProblems(template: Template, env: Env): string[] {
  const evaluator = apiEvaluator(template, env);
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
    const namespace = String(evaluator.resolve(p.Namespace));
    if (namespace.startsWith('Runway') && namespace !== appNamespace(env)) {
      problems.push(`${id}: the app's metrics of ${env} are in ${appNamespace(env)}, not ${namespace}`);
    }
    problems.push(...metricProblems(id, namespace, String(p.MetricName), dimensions));
    if ('Statistic' in p === 'ExtendedStatistic' in p) {
      problems.push(`${id}: exactly one of Statistic and ExtendedStatistic is allowed`);
    } else if ('Statistic' in p && !STATISTICS.includes(String(p.Statistic))) {
      problems.push(`${id}: unknown Statistic ${String(p.Statistic)}`);
    } else if ('ExtendedStatistic' in p && !PERCENTILE.test(String(p.ExtendedStatistic))) {
      problems.push(`${id}: ExtendedStatistic ${String(p.ExtendedStatistic)} is not a percentile`);
    }
    // The canary's period follows its schedule, which differs per environment.
    const period = Number(evaluator.resolve(p.Period));
    const evaluations = Number(evaluator.resolve(p.EvaluationPeriods));
    const datapoints = Number(evaluator.resolve(p.DatapointsToAlarm) ?? evaluations);
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
    if (!actions.some((action) => sameJson(action, { Ref: 'AlarmTopic' }))) {
      problems.push(`${id}: AlarmActions must notify AlarmTopic`);
    }
    if (p.Namespace === 'AWS/ApplicationELB') {
      const values = Object.fromEntries(
        (p.Dimensions as { Name: string; Value: unknown }[]).map((d) => [d.Name, evaluator.resolve(d.Value)]),
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

const alarmNames = (template: Template, env: Env) => {
  const evaluator = apiEvaluator(template, env);
  return resourcesOf(template, 'AWS::CloudWatch::Alarm').map(
    ([id, alarm]) => [String(evaluator.resolve(alarm.Properties?.AlarmName)), id, alarm] as const,
  );
};

/** The alarms of alarms.yml: the three names, per-alarm choices, and that OK notifications are sent too. */
function ownAlarmProblems(template: Template, env: Env): string[] {
  const problems: string[] = [];
  const byName = new Map(
    alarmNames(template, env).map(([name, id, alarm]) => [name, { id, p: alarm.Properties ?? {} }]),
  );
  for (const suffix of OWN_ALARMS) {
    const alarm = byName.get(`${APP}-${env}-${WORKLOAD}-${suffix}`);
    if (!alarm) {
      problems.push(`no alarm named ${APP}-${env}-${WORKLOAD}-${suffix}`);
      continue;
    }
    const { id, p } = alarm;
    if (p.TreatMissingData !== 'notBreaching') problems.push(`${id}: missing data must be notBreaching`);
    if (!sameJson(p.OKActions, [{ Ref: 'AlarmTopic' }])) {
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

function rollbackProblems(manifest: Manifest, template: Template, env: Env): string[] {
  // Lists are replaced, not merged, by an environment override.
  const listed =
    manifest.environments?.[env]?.deployment?.rollback_alarms ?? manifest.deployment?.rollback_alarms;
  if (!Array.isArray(listed) || listed.length === 0)
    return [`${env}: the manifest lists no rollback alarm names`];
  const names = alarmNames(template, env).map(([name]) => name);
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

const { merged } = loadApiAddons();
const alarmsFile = loadTemplate(join(API_ADDONS, 'alarms.yml'));
const manifest = loadManifest();

describe('api alarms', () => {
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
  });

  describe('catches a broken copy', () => {
    it('of an alarm', () => {
      const both = structuredClone(merged);
      both.Resources.P99LatencyAlarm!.Properties!.Statistic = 'Average';
      expect(alarmProblems(both, 'test')).toContain(
        'P99LatencyAlarm: exactly one of Statistic and ExtendedStatistic is allowed',
      );
      const typo = structuredClone(merged);
      typo.Resources.Target5xxAlarm!.Properties!.MetricName = 'HTTPCode_Target_5xx_Count';
      expect(alarmProblems(typo, 'test')).toContain(
        'Target5xxAlarm: AWS/ApplicationELB has no metric HTTPCode_Target_5xx_Count',
      );
      const silent = structuredClone(merged);
      delete silent.Resources.UnhealthyHostsAlarm!.Properties!.AlarmActions;
      expect(alarmProblems(silent, 'test')).toContain(
        'UnhealthyHostsAlarm: AlarmActions must notify AlarmTopic',
      );
      const otherEnv = structuredClone(merged);
      otherEnv.Resources.TaskCallbackFailedAlarm!.Properties!.Namespace = 'Runway/prod';
      expect(alarmProblems(otherEnv, 'test')).toContain(
        "TaskCallbackFailedAlarm: the app's metrics of test are in Runway/test, not Runway/prod",
      );
      const dimension = structuredClone(merged);
      (dimension.Resources.UnhealthyHostsAlarm!.Properties!.Dimensions as unknown[]).pop();
      expect(alarmProblems(dimension, 'test')).toContain(
        'UnhealthyHostsAlarm: AWS/ApplicationELB UnHealthyHostCount is not published with dimensions [LoadBalancer]',
      );
    });

    it('of an alarm name, against the rollback alarms of the manifest', () => {
      const renamed = structuredClone(merged);
      renamed.Resources.P99LatencyAlarm!.Properties!.AlarmName = {
        'Fn::Sub': '${App}-${Env}-${Name}-p95-latency',
      };
      expect(rollbackProblems(manifest, renamed, 'prod')).toContain(
        'prod: rollback alarm runway-prod-api-p99-latency is not an alarm of copilot/api/addons',
      );
      expect(ownAlarmProblems(renamed, 'prod')).toContain('no alarm named runway-prod-api-p99-latency');
      const unfixed = structuredClone(merged);
      unfixed.Resources.Target5xxAlarm!.Properties!.AlarmName = { 'Fn::Sub': '${AWS::StackName}-5xx' };
      expect(alarmProblems(unfixed, 'test').join('\n')).toMatch(/Target5xxAlarm: AlarmName must be/);
    });
  });
});
