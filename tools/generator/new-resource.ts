/**
 * `npm run new:resource -- <name> [--plural <plural>]` writes a complete owner-scoped resource, made from the
 * reference resource (src/projects and its tests) by renaming it: entity, repository, service, controller, DTOs and
 * module in src/<plural>/, the module registered in src/app.module.ts, its tests in test/api/<plural>.spec.ts, its
 * rows in the authorization matrix, its migration (`npm run db:generate`) and the OpenAPI contract
 * (`npm run openapi:export`). See docs/adding-a-resource.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MIGRATIONS_TABLE } from '../../src/database/database.repository.js';
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

/** Words JavaScript does not take as a variable's name (in strict mode, which modules are). */
const RESERVED = new Set(
  (
    'await break case catch class const continue debugger default delete do else enum export extends false finally ' +
    'for function if implements import in instanceof interface let new null package private protected public ' +
    'return static super switch this throw true try typeof var void while with yield arguments eval'
  ).split(' '),
);

/** Why the resource cannot have these names, checked before anything is written. */
export function refusal(to: ResourceNames): string | undefined {
  const reserved = [to.singular.camel, to.plural.camel].find((word) => RESERVED.has(word));
  if (reserved) return `"${reserved}" is a reserved word in JavaScript: choose another name`;
  // The longest names made of it: an index (PostgreSQL cuts names at 63 bytes) and the analytics event (64).
  const index = `ix_${to.plural.snake}_owner_id_id`;
  const event = `${to.singular.snake}.created`;
  if (index.length > 63 || event.length > 64) {
    return `the name is too long for ${index.length > 63 ? `the index ${index}` : `the event ${event}`}: choose a shorter one`;
  }
  const sources = (folder: string) =>
    readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(ROOT, folder, file), 'utf8'));
  if (sources('src').some((text) => text.includes(`@Controller('v1/${to.plural.kebab}'`))) {
    return `/v1/${to.plural.kebab} is a route of the app already: choose another name (or --plural)`;
  }
  // A table made in SQL, or named in a JavaScript string (a migration that builds its statements: the analytics
  // counters); a double-quoted name without TABLE before it is a column.
  const table = new RegExp(
    `TABLE (IF NOT EXISTS )?"?${to.plural.snake}"?[\\s(]|(['\`])${to.plural.snake}\\2`,
    'i',
  );
  if (to.plural.snake === MIGRATIONS_TABLE || sources('migrations').some((text) => table.test(text))) {
    return `the table ${to.plural.snake} exists already: choose another name (or --plural)`;
  }
  const taken = [...plannedFiles(to).map(([, target]) => target), `src/${to.plural.kebab}`].filter((target) =>
    existsSync(join(ROOT, target)),
  );
  if (taken.length > 0) return `already exists: ${taken.join(', ')}`;
  return undefined;
}

/** The files a generation changes, as they are: restoring them undoes whatever it wrote. */
function snapshot(to: ResourceNames): () => void {
  const changed = [
    'src/app.module.ts',
    'test/support/route-matrix.ts',
    'migrations/index.ts',
    'openapi.json',
    'packages/client/src/schema.ts',
  ];
  const saved = new Map(changed.map((path) => [path, readFileSync(join(ROOT, path), 'utf8')]));
  const migrations = new Set(readdirSync(join(ROOT, 'migrations')));
  return () => {
    for (const [path, text] of saved) writeFileSync(join(ROOT, path), text);
    for (const file of readdirSync(join(ROOT, 'migrations'))) {
      if (!migrations.has(file)) rmSync(join(ROOT, 'migrations', file));
    }
    rmSync(join(ROOT, 'src', to.plural.kebab), { recursive: true, force: true });
    rmSync(join(ROOT, `test/api/${to.plural.kebab}.spec.ts`), { force: true });
  };
}

function generate(to: ResourceNames): void {
  const refused = refusal(to);
  if (refused) throw new Error(refused);
  const undo = snapshot(to);
  // A terminal's Ctrl-C reaches the commands it runs too, which then fail: this process outlives them to undo.
  process.on('SIGINT', () => undefined);
  try {
    write(to);
  } catch (error) {
    undo();
    if (killedBySignal(error)) {
      say('\nnew:resource: interrupted; everything it wrote is undone.');
      process.exit(130);
    }
    say('\nnew:resource: nothing was generated; everything it wrote is undone.');
    throw error;
  }
  // The resource and its migration exist (a running `npm run dev` has applied it): what is left is not undone.
  try {
    format();
  } catch (error) {
    say(
      '\nnew:resource: the resource and its migration are written; finish with: ' +
        'npx prettier --write src test migrations && npm run openapi:export',
    );
    throw error;
  }
  say(
    `\n${to.plural.sentence}: /v1/${to.plural.kebab} is ready. Next: npm test, then change the fields ` +
      `(see docs/adding-a-resource.md).`,
  );
}

const npm = (...args: string[]) => execFileSync('npm', args, { cwd: ROOT, stdio: 'inherit' });

/** A command it ran was stopped by a signal (Ctrl-C reaches them too), or exited as one stopped by Ctrl-C does. */
function killedBySignal(error: unknown): boolean {
  const { signal, status } = error as { signal?: unknown; status?: unknown };
  return typeof signal === 'string' || status === 130;
}

function write(to: ResourceNames): void {
  const files = plannedFiles(to);
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

  // A name the reference code also uses for something else (a local `status`, say) compiles no more. Checked before
  // a migration exists: a running `npm run dev` would apply it at once, and undoing the files would not undo that.
  try {
    execFileSync('npx', ['tsc', '--noEmit'], { cwd: ROOT, stdio: 'inherit' });
  } catch (error) {
    if (killedBySignal(error)) throw error;
    throw new Error(
      `the code for "${to.singular.words}" does not compile (above): the name clashes with one the reference ` +
        'resource uses; choose another name',
      { cause: error },
    );
  }
  npm('run', '-s', 'db:generate', '--', `Create${to.plural.pascal}`);
}

/** The generated files as the project formats them, and the OpenAPI document and client with the new routes. */
function format(): void {
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
}

if (isMainModule(import.meta.url)) {
  try {
    const { positionals, values } = parseArgs({
      allowPositionals: true,
      options: { plural: { type: 'string' }, help: { type: 'boolean' } },
    });
    if (values.help || positionals.length !== 1) {
      throw new Error('usage: npm run new:resource -- <name> [--plural <plural>]');
    }
    generate(resourceNames(positionals[0]!, values.plural));
  } catch (error) {
    process.stderr.write(`new:resource: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
