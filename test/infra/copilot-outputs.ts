/**
 * What Copilot makes of a workload's addon outputs (internal/pkg/addon/output.go and the workload templates of
 * aws/copilot-cli): an output whose value is a `Ref` of an AWS::SecretsManager::Secret becomes a secret environment
 * variable, of an AWS::IAM::ManagedPolicy a policy attached to the task role, of an AWS::EC2::SecurityGroup a
 * security group of the tasks; any other output becomes a plain environment variable. Variables are named after the
 * output's logical id in upper snake case.
 */
import type { Template } from '../../tools/deploy/addons.js';

export type Injection = 'secret' | 'variable' | 'policy' | 'security-group';

export interface InjectedOutput {
  output: string;
  /** The environment variable name; undefined for policies and security groups. */
  name?: string;
  kind: Injection;
  /** The resource the output is a `Ref` of, if any. */
  ref?: string;
}

/** Copilot's ToSnakeCaseFunc: `TaskLinkSecret` → `TASK_LINK_SECRET`, `myDDBTable` → `MY_DDB_TABLE`. */
export const copilotEnvName = (outputId: string) =>
  outputId
    .replace(/([a-z0-9]+)([A-Z])/g, '$1_$2')
    .replace(/([A-Z0-9])([A-Z][a-z])/g, '$1_$2')
    .toUpperCase();

const KINDS: Record<string, Injection> = {
  'AWS::SecretsManager::Secret': 'secret',
  'AWS::IAM::ManagedPolicy': 'policy',
  'AWS::EC2::SecurityGroup': 'security-group',
};

export function injectedOutputs(template: Template): InjectedOutput[] {
  return Object.entries(template.Outputs ?? {}).map(([output, { Value }]) => {
    const ref = (Value as { Ref?: unknown } | null)?.Ref;
    const type = typeof ref === 'string' ? template.Resources[ref]?.Type : undefined;
    const kind: Injection = (type ? KINDS[type] : undefined) ?? 'variable';
    const named = kind === 'secret' || kind === 'variable';
    return {
      output,
      kind,
      ...(named ? { name: copilotEnvName(output) } : {}),
      ...(typeof ref === 'string' ? { ref } : {}),
    };
  });
}
