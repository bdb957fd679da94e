/**
 * The api's addons.parameters.yml (copilot/api/addons): it gives every parameter the templates need and cannot
 * create a circular dependency with the service stack.
 */
import { describe, expect, it } from 'vitest';
import { parseCloudFormation, type Template } from '../../tools/deploy/addons.js';
import { loadApiAddons, RESERVED, type Json } from '../support/cloudformation.js';

/** Parent-stack ids (lb-web/cf.yml) that never wait for the addons stack: TargetGroup only needs the VPC. */
const SAFE_PARENT_REFERENCES = new Set(['TargetGroup', 'AppName', 'EnvName', 'WorkloadName']);

/** The resources and parameters of the parent stack that `node` names. */
function references(node: unknown): string[] {
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

const { merged, parameters } = loadApiAddons();

describe('api addons.parameters.yml', () => {
  it('gives every parameter and only refers to the target group of the service stack', () => {
    expect(parameterProblems(merged, parameters)).toEqual([]);
    expect(parameters.TargetGroupFullName).toEqual({ 'Fn::GetAtt': ['TargetGroup', 'TargetGroupFullName'] });
  });

  it('catches a broken copy of the parameters file', () => {
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
