/**
 * Copilot merges every template in an addons folder into one CloudFormation template (addons.parameters.yml is
 * not a template). This reads them the same way, so tests and `cfn-lint` see what CloudFormation will see.
 * `npm run addons:merge -- <out-dir>` writes copilot/<workload>/addons and copilot/environments/addons as
 * <out-dir>/<workload>.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, type Tags } from 'yaml';
import { isMainModule } from '../root.js';

export type Template = {
  AWSTemplateFormatVersion?: string;
  Description?: string;
  Parameters?: Record<string, Record<string, unknown>>;
  Conditions?: Record<string, unknown>;
  Mappings?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> } & Record<string, unknown>>;
  Outputs?: Record<string, { Value: unknown; Export?: { Name: unknown }; Description?: string }>;
} & Record<string, unknown>;

const INTRINSICS = [
  'Base64',
  'Cidr',
  'FindInMap',
  'GetAtt',
  'GetAZs',
  'ImportValue',
  'Join',
  'Select',
  'Split',
  'Sub',
  'Transform',
  'And',
  'Equals',
  'If',
  'Not',
  'Or',
  'Condition',
  'Ref',
];

/** `!Ref X` → `{ Ref: X }`, `!GetAtt A.B` → `{ 'Fn::GetAtt': ['A', 'B'] }`, `!Sub s` → `{ 'Fn::Sub': s }`, … */
const CLOUDFORMATION_TAGS: Tags = INTRINSICS.flatMap((name) => {
  const key = name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`;
  const value = (raw: unknown) =>
    name === 'GetAtt' && typeof raw === 'string'
      ? { [key]: raw.split(/\.(.*)/s).slice(0, 2) }
      : { [key]: raw };
  return (['scalar', 'seq', 'map'] as const).map((collection) => ({
    tag: `!${name}`,
    ...(collection === 'scalar' ? {} : { collection }),
    resolve: (raw: unknown) => value(collection === 'scalar' ? raw : (raw as { toJSON(): unknown }).toJSON()),
  }));
});

export function parseCloudFormation(text: string): unknown {
  return parse(text, { customTags: CLOUDFORMATION_TAGS, version: '1.1' }) as unknown;
}

export function loadTemplate(path: string): Template {
  return parseCloudFormation(readFileSync(path, 'utf8')) as Template;
}

const SECTIONS = [
  'Parameters',
  'Conditions',
  'Mappings',
  'Resources',
  'Outputs',
  'Metadata',
  'Rules',
] as const;

/** All templates of one addons folder as the single template Copilot deploys; duplicate logical ids throw. */
export function mergeAddons(folder: string): Template {
  const merged: Template = { AWSTemplateFormatVersion: '2010-09-09', Resources: {} };
  const files = readdirSync(folder)
    .filter((file) => /\.ya?ml$/.test(file) && !/^addons\.parameters\.ya?ml$/.test(file))
    .sort();
  for (const file of files) {
    const template = loadTemplate(join(folder, file));
    for (const section of SECTIONS) {
      const entries = (template[section] ?? {}) as Record<string, unknown>;
      const target = ((merged as Record<string, unknown>)[section] ??= {}) as Record<string, unknown>;
      for (const [id, value] of Object.entries(entries)) {
        // Copilot accepts the same parameter declared identically in several files (App, Env, Name).
        if (id in target && !(section === 'Parameters' && sameJson(target[id], value))) {
          throw new Error(`${file}: ${section}.${id} is also defined in another file of ${folder}`);
        }
        target[id] = value;
      }
    }
  }
  return merged;
}

/** The values addons.parameters.yml passes to the merged template. */
export function addonParameters(folder: string): Record<string, unknown> {
  const file = readdirSync(folder).find((name) => /^addons\.parameters\.ya?ml$/.test(name));
  if (!file) return {};
  return (
    parseCloudFormation(readFileSync(join(folder, file), 'utf8')) as { Parameters: Record<string, unknown> }
  ).Parameters;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Every addons folder of the workspace: `environments` and one per workload. */
export function addonFolders(copilotDir: string): Record<string, string> {
  const folders: Record<string, string> = {};
  for (const entry of readdirSync(copilotDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === 'pipelines') continue;
    const addons = join(copilotDir, entry.name, 'addons');
    try {
      if (readdirSync(addons).length > 0) folders[entry.name] = addons;
    } catch {
      // no addons folder
    }
  }
  return folders;
}

if (isMainModule(import.meta.url)) {
  const out = resolve(process.argv[2] ?? 'dist/addons');
  mkdirSync(out, { recursive: true });
  for (const [name, folder] of Object.entries(addonFolders(resolve('copilot')))) {
    writeFileSync(join(out, `${name}.json`), JSON.stringify(mergeAddons(folder), null, 2));
    process.stdout.write(`${join(out, `${name}.json`)}\n`);
  }
}
