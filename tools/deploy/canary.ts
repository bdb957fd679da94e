/**
 * The canary's code is the journey itself: tools/synthetics/journey.ts and canary.ts, compiled to CommonJS by SWC and
 * joined into one self-contained script, the inline `Script` of copilot/api/addons/canary.yml.
 * `npm run canary:render` rewrites that Script; `npm run canary:render -- --check` exits 1 when it is out of date
 * (test/infra/canary.spec.ts checks the same).
 */
import { transformSync } from '@swc/core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMainModule, ROOT } from '../root.js';

/** Modules of tools/synthetics/ in the script; the last one is the entry point. */
const MODULES = ['journey', 'canary'];

export const CANARY_TEMPLATE = join(ROOT, 'copilot', 'api', 'addons', 'canary.yml');

export function renderCanaryScript(root = ROOT): string {
  const modules = MODULES.map((name) => {
    const source = readFileSync(join(root, 'tools', 'synthetics', `${name}.ts`), 'utf8');
    const { code } = transformSync(source, {
      filename: `${name}.ts`,
      swcrc: false,
      configFile: false,
      sourceMaps: false,
      isModule: true,
      module: { type: 'commonjs' },
      // The oldest Node.js of the Synthetics runtimes this may run on is 20.
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    });
    return `'./${name}.js': function (exports, require) {\n${code.trim()}\n},`;
  });
  const entry = MODULES.at(-1)!;
  return [
    `// Generated from tools/synthetics/{${MODULES.join(',')}}.ts by \`npm run canary:render\`: edit those, not this.`,
    `'use strict';`,
    `const modules = {`,
    ...modules,
    `};`,
    `const loaded = {};`,
    `function load(name) {`,
    `  if (!(name in loaded)) {`,
    `    loaded[name] = {};`,
    `    modules[name](loaded[name], (id) => (id in modules ? load(id) : require(id)));`,
    `  }`,
    `  return loaded[name];`,
    `}`,
    `const entry = load('./${entry}.js');`,
    `// Named outright, so that an import() of this file finds the handler as require() does.`,
    `exports.handler = entry.handler;`,
    `Object.assign(exports, entry);`,
    '',
  ].join('\n');
}

/** `template` with the literal block of its one `Script: |` key replaced by `script`; the rest is untouched. */
export function withScript(template: string, script: string): string {
  const lines = template.split('\n');
  const keys = lines.flatMap((line, index) => (/^\s*Script: \|$/.test(line) ? [index] : []));
  if (keys.length !== 1) throw new Error(`expected one "Script: |" line, found ${keys.length}`);
  const at = keys[0]!;
  const keyIndent = lines[at]!.search(/\S/);
  let end = at + 1;
  while (end < lines.length && (lines[end]!.trim() === '' || lines[end]!.search(/\S/) > keyIndent)) end++;
  while (end > at + 1 && lines[end - 1]!.trim() === '') end--;
  const indent = ' '.repeat(keyIndent + 2);
  const body = script
    .replace(/\n$/, '')
    .split('\n')
    .map((line) => (line ? indent + line : ''));
  return [...lines.slice(0, at + 1), ...body, ...lines.slice(end)].join('\n');
}

if (isMainModule(import.meta.url)) {
  const current = readFileSync(CANARY_TEMPLATE, 'utf8');
  const rendered = withScript(current, renderCanaryScript());
  if (process.argv.includes('--check')) {
    if (rendered !== current) {
      process.stderr.write(
        `${CANARY_TEMPLATE}: the canary script is out of date: run npm run canary:render\n`,
      );
      process.exit(1);
    }
  } else if (rendered !== current) {
    writeFileSync(CANARY_TEMPLATE, rendered);
    process.stdout.write(`${CANARY_TEMPLATE}: canary script rendered\n`);
  } else {
    process.stdout.write(`${CANARY_TEMPLATE}: canary script up to date\n`);
  }
}
