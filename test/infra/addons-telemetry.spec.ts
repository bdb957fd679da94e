/**
 * The collector's permissions (copilot/api/addons/telemetry.yml): the policy reaches the task role and lets the
 * collector write traces and its metrics log group, and nothing more.
 */
import { describe, expect, it } from 'vitest';
import type { Template } from '../../tools/deploy/addons.js';
import {
  ACCOUNT,
  apiEvaluator,
  ENVIRONMENTS,
  loadApiAddons,
  metricsLogGroup,
  REGION,
  sameJson,
  type Env,
  type Json,
} from '../support/cloudformation.js';

/** `*` and `?` of IAM resource patterns. */
const iamMatches = (pattern: string, arn: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
  ).test(arn);

function policyProblems(template: Template, env: Env, logGroup: string): string[] {
  const evaluator = apiEvaluator(template, env);
  const problems: string[] = [];
  const policyOutputs = Object.entries(template.Outputs ?? {}).filter(([, output]) => {
    const ref = (output.Value as { Ref?: string } | null)?.Ref;
    return ref !== undefined && template.Resources[ref]?.Type === 'AWS::IAM::ManagedPolicy';
  });
  if (!policyOutputs.some(([, output]) => sameJson(output.Value, { Ref: 'TelemetryPolicy' }))) {
    return ['no output is a !Ref of TelemetryPolicy: Copilot would not attach it to the task role'];
  }
  const statements = policyOutputs.flatMap(([, output]) => {
    const policy = template.Resources[(output.Value as { Ref: string }).Ref]!;
    return (evaluator.resolve(policy.Properties?.PolicyDocument) as { Statement: Json[] }).Statement;
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

const { merged } = loadApiAddons();

describe('api telemetry policy', () => {
  describe.each(ENVIRONMENTS)('in %s', (env) => {
    it('lets the collector write traces and its metrics log group, through a policy Copilot attaches', () => {
      expect(metricsLogGroup(merged, env)).toBe(`/runway/${env}/metrics`);
      expect(policyProblems(merged, env, `/runway/${env}/metrics`)).toEqual([]);
    });
  });

  it('catches a broken copy of the telemetry policy', () => {
    const getAtt = structuredClone(merged);
    getAtt.Outputs!.TelemetryPolicy!.Value = { 'Fn::GetAtt': ['TelemetryPolicy', 'PolicyArn'] };
    expect(policyProblems(getAtt, 'test', '/runway/test/metrics').join('\n')).toMatch(/task role/);
    const wide = structuredClone(merged);
    const statements = (wide.Resources.TelemetryPolicy!.Properties!.PolicyDocument as { Statement: Json[] })
      .Statement;
    statements.find((s) => s.Sid === 'WriteEmfMetrics')!.Resource = '*';
    expect(policyProblems(wide, 'test', '/runway/test/metrics')).toContain(
      'the policy lets the task write any log group',
    );
  });
});
