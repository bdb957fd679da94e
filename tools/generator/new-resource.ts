/**
 * `npm run new:resource -- <name> [--plural <plural>]` writes a complete owner-scoped resource, made from the
 * reference resource (src/projects and its tests) by renaming it: entity, repository, service, controller, DTOs and
 * module in src/<plural>/, the module registered in src/app.module.ts, its tests in test/api/<plural>.spec.ts, its
 * rows in the authorization matrix, its migration (`npm run db:generate`) and the OpenAPI contract
 * (`npm run openapi:export`). See docs/adding-a-resource.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainModule, ROOT } from '../root.js';
import { resourceNames, type ResourceNames } from './names.js';
import { renamePath, renameSource } from './rename.js';

const REFERENCE = resourceNames('project');
const MARKER = /^(\s*)\/\/ new:resource adds (modules|rows) above this line$/m;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The files written from the reference resource: source → target, relative to the repository root. */
export function plannedFiles(to: ResourceNames): [string, string][] {
  const feature = `src/${REFERENCE.plural.kebab}`;
  return [
    ...readdirSync(join(ROOT, feature))
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
      .map((file): [string, string] => [
        `${feature}/${file}`,
        `src/${to.plural.kebab}/${renamePath(file, REFERENCE, to)}`,
      ]),
    [`test/api/${REFERENCE.plural.kebab}.spec.ts`, `test/api/${to.plural.kebab}.spec.ts`],
  ];
}

function insertAtMarker(path: string, lines: string[]): void {
  const file = join(ROOT, path);
  const text = readFileSync(file, 'utf8');
  const marker = MARKER.exec(text);
  if (!marker) throw new Error(`${path}: the "// new:resource adds … above this line" marker is missing`);
  const indent = marker[1]!.replace(/^\n/, '');
  writeFileSync(
    file,
    text.replace(marker[0], `${lines.map((line) => `${indent}${line}`).join('\n')}\n${marker[0]}`),
  );
}

function addImport(path: string, line: string): void {
  const file = join(ROOT, path);
  const text = readFileSync(file, 'utf8');
  const lastImport = [...text.matchAll(/^import .*;$/gm)].at(-1)!;
  const at = lastImport.index + lastImport[0].length;
  writeFileSync(file, `${text.slice(0, at)}\n${line}${text.slice(at)}`);
}

function generate(to: ResourceNames): void {
  const files = plannedFiles(to);
  const taken = files.map(([, target]) => target).filter((target) => existsSync(join(ROOT, target)));
  if (taken.length > 0) throw new Error(`already exists: ${taken.join(', ')}`);

  mkdirSync(join(ROOT, 'src', to.plural.kebab), { recursive: true });
  for (const [source, target] of files) {
    writeFileSync(join(ROOT, target), renameSource(readFileSync(join(ROOT, source), 'utf8'), REFERENCE, to));
    say(`  wrote ${target}`);
  }

  const module = `${to.plural.pascal}Module`;
  addImport(
    'src/app.module.ts',
    `import { ${module} } from './${to.plural.kebab}/${to.plural.kebab}.module.js';`,
  );
  insertAtMarker('src/app.module.ts', [`${module},`]);
  say(`  registered ${module} in src/app.module.ts`);

  insertAtMarker('test/support/route-matrix.ts', [
    `...ownerScopedResource('/v1/${to.plural.kebab}', {`,
    `  create: () => ({ name: uniqueName('matrix') }),`,
    `  change: () => ({ description: 'm' }),`,
    `}),`,
  ]);
  say(`  added /v1/${to.plural.kebab} to the authorization matrix (test/support/route-matrix.ts)`);

  const npm = (...args: string[]) => execFileSync('npm', args, { cwd: ROOT, stdio: 'inherit' });
  npm('run', '-s', 'db:generate', '--', `Create${to.plural.pascal}`);
  npm(
    'exec',
    '--',
    'prettier',
    '--write',
    '--log-level',
    'warn',
    'src',
    'test/api',
    'test/support',
    'migrations',
  );
  npm('run', '-s', 'openapi:export');
  say(
    `\n${to.plural.sentence}: /v1/${to.plural.kebab} is ready. Next: npm test, then change the fields ` +
      `(see docs/adding-a-resource.md).`,
  );
}

if (isMainModule(import.meta.url)) {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { plural: { type: 'string' } },
  });
  try {
    if (positionals.length !== 1)
      throw new Error('usage: npm run new:resource -- <name> [--plural <plural>]');
    generate(resourceNames(positionals[0]!, values.plural));
  } catch (error) {
    process.stderr.write(`new:resource: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
