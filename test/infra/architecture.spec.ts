import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/process.js';

/** The layout rules of docs/architecture.md, checked on every file of src/. */
const SRC = join(ROOT, 'src');
const files = (readdirSync(SRC, { recursive: true }) as string[])
  .filter((file) => file.endsWith('.ts'))
  .map((file) => ({ path: `src/${file}`, text: readFileSync(join(SRC, file), 'utf8') }));
const code = files.filter(({ path }) => !path.endsWith('.spec.ts'));

/** Folders every feature may use; they import none of the features. */
const SHARED = new Set(['config', 'database', 'http', 'auth', 'telemetry', 'jobs', 'utils']);
const folderOf = (path: string) => relative(SRC, resolve(ROOT, path)).split('/')[0]!;

function relativeImports(path: string, text: string): string[] {
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map(([, specifier]) =>
    relative(ROOT, resolve(ROOT, dirname(path), specifier!)),
  );
}

describe('layout', () => {
  it('has SQL only in *.repository.ts files', () => {
    const sql =
      /\b(SELECT\s+[\w*"(]|INSERT\s+INTO|DELETE\s+FROM|UPDATE\s+\w+\s+SET|pg_advisory|SET\s+statement_timeout)/;
    const outside = code.filter(({ path, text }) => !path.endsWith('.repository.ts') && sql.test(text));
    expect(outside.map(({ path }) => path)).toEqual([]);
  });

  it('keeps every file of src/ within 250 lines', () => {
    const long = files
      .map(({ path, text }) => ({ path, lines: text.split('\n').length - 1 }))
      .filter(({ lines }) => lines > 250);
    expect(long).toEqual([]);
  });

  it('imports flow one way: features use the shared folders, the shared folders use no feature', () => {
    const wrongWay = code.flatMap(({ path, text }) => {
      if (!SHARED.has(folderOf(path))) return [];
      return relativeImports(path, text)
        .filter((target) => target.startsWith('src/') && !SHARED.has(folderOf(target)))
        .map((target) => `${path} → ${target}`);
    });
    expect(wrongWay).toEqual([]);
  });

  it('keeps tooling out of the app: src/ imports nothing from tools/, test/ or bench/', () => {
    const outward = code.flatMap(({ path, text }) =>
      relativeImports(path, text)
        .filter((target) => !target.startsWith('src/') && !target.startsWith('migrations/'))
        .map((target) => `${path} → ${target}`),
    );
    expect(outward).toEqual([]);
  });
});
