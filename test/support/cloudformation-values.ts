/**
 * A small evaluator of CloudFormation intrinsics, enough to read an addon template as it would be for one
 * environment: parameters and pseudo parameters, Conditions, Fn::If, Fn::FindInMap, Fn::Sub, Fn::Join and
 * AWS::NoValue. What only exists at deploy time (Ref or Fn::GetAtt of a resource, Fn::ImportValue) is left as is,
 * and so is a Fn::Sub variable naming a resource.
 */
import type { Template } from '../../tools/deploy/addons.js';

export type Values = Record<string, unknown>;

/** Pseudo parameters with sample values. */
export const PSEUDO_PARAMETERS: Values = {
  'AWS::AccountId': '123456789012',
  'AWS::Region': 'eu-west-1',
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'runway-test-AddonsStack-ABC123',
};

const NO_VALUE = Symbol('AWS::NoValue');

export class Evaluator {
  private readonly values: Values;

  /** `parameters`: the template's parameter values (App, Env and the addons.parameters.yml ones). */
  constructor(
    private readonly template: Template,
    parameters: Values,
  ) {
    this.values = { ...PSEUDO_PARAMETERS, ...parameters };
  }

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
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0]!;
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
          const [left, right] = (argument as unknown[]).map((item) => this.evaluate(item));
          return JSON.stringify(left) === JSON.stringify(right);
        }
        case 'Fn::Not':
          return !this.truth((argument as unknown[])[0]);
        case 'Fn::And':
          return (argument as unknown[]).every((item) => this.truth(item));
        case 'Fn::Or':
          return (argument as unknown[]).some((item) => this.truth(item));
        case 'Fn::FindInMap':
          return this.findInMap((argument as unknown[]).map((item) => this.evaluate(item)));
        case 'Fn::Sub':
          return this.sub(argument);
        case 'Fn::Join': {
          const [separator, items] = argument as [string, unknown];
          const list = this.evaluate(items);
          return Array.isArray(list) && list.every((item) => typeof item === 'string')
            ? list.join(separator)
            : { 'Fn::Join': [separator, list] };
        }
      }
    }
    const result: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const resolved = this.evaluate(item);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }

  private ref(name: string): unknown {
    if (name === 'AWS::NoValue') return NO_VALUE;
    if (name in this.values) return this.values[name];
    if (name in (this.template.Parameters ?? {})) {
      const fallback = this.template.Parameters![name]!.Default;
      if (fallback === undefined) throw new Error(`no value for parameter ${name}`);
      return fallback;
    }
    return { Ref: name };
  }

  private findInMap([map, first, second]: unknown[]): unknown {
    const mapping = (this.template.Mappings ?? {})[map as string] as Record<string, Record<string, unknown>>;
    const found = mapping?.[first as string]?.[second as string];
    if (found === undefined)
      throw new Error(`Fn::FindInMap: no ${String(map)}.${String(first)}.${String(second)}`);
    return found;
  }

  private sub(argument: unknown): unknown {
    const [text, variables] = typeof argument === 'string' ? [argument, {}] : (argument as [string, Values]);
    const local = Object.fromEntries(
      Object.entries(variables).map(([name, item]) => [name, this.evaluate(item)]),
    );
    let unresolved = false;
    const result = text.replace(/\$\{(!?)([^}]+)\}/g, (whole, literal: string, name: string) => {
      if (literal) return `\${${name}}`;
      const value = name in local ? local[name] : name.includes('.') ? undefined : this.ref(name);
      if (typeof value === 'string' || typeof value === 'number') return String(value);
      unresolved = true;
      return whole;
    });
    return unresolved ? { 'Fn::Sub': typeof argument === 'string' ? result : [result, local] } : result;
  }
}
