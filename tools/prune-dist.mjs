/**
 * Before `npm run build` compiles over dist/: removes what no source produces any more (a file deleted or renamed),
 * so that nothing stale is run or tested. Everything else stays in place, rather than dist/ being deleted first:
 * `npm run dev`'s API restarts when its compiled files change, and would stop restarting if they vanished.
 * Plain JavaScript: it runs before anything is compiled.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
/** Folders compiled file by file into dist/<folder>; dist/web is the back office's bundle, which its build tidies. */
const compiled = new Set(['src', 'migrations', 'tools', 'bench']);

/** Whether a compiled file has its source: dist/src/a/b.js (or its .js.map) comes from src/a/b.ts (or .mjs). */
const hasSource = (path) =>
  ['.ts', '.mjs'].some((extension) => existsSync(join(root, path.replace(/\.js(\.map)?$/, extension))));

if (existsSync(dist)) {
  for (const entry of readdirSync(dist)) {
    if (entry !== 'web' && !compiled.has(entry)) rmSync(join(dist, entry), { recursive: true, force: true });
  }
  for (const folder of compiled) {
    if (!existsSync(join(dist, folder))) continue;
    for (const file of readdirSync(join(dist, folder), { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const path = join(file.parentPath, file.name).slice(dist.length + 1);
      if (!hasSource(path)) rmSync(join(dist, path), { force: true });
    }
  }
}
