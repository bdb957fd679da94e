/**
 * Which compiled files of dist/ still have their source: shared by prune-dist.mjs (which removes the others) and
 * build-if-stale.mjs (for which one is a reason to build). Plain JavaScript: it runs before anything is compiled.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Folders compiled file by file into dist/<folder>; dist/web is the back office's bundle, which its build tidies. */
export const COMPILED = ['src', 'migrations', 'tools', 'bench'];

/** Whether a compiled file has its source: dist/src/a/b.js (or its .js.map) comes from src/a/b.ts (or .mjs). */
const hasSource = (root, path) =>
  ['.ts', '.mjs'].some((extension) => existsSync(join(root, path.replace(/\.js(\.map)?$/, extension))));

/** The files of dist/<COMPILED folders> (paths relative to dist/) that no source produces any more. */
export function orphans(root) {
  const dist = join(root, 'dist');
  const found = [];
  for (const folder of COMPILED) {
    if (!existsSync(join(dist, folder))) continue;
    for (const file of readdirSync(join(dist, folder), { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const path = join(file.parentPath, file.name).slice(dist.length + 1);
      if (!hasSource(root, path)) found.push(path);
    }
  }
  return found;
}
