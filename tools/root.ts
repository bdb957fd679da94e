import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The repository root: the nearest folder above this file (in tools/ or dist/tools/) with Runway's package.json. */
function findRoot(from: string): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'runway'
    ) {
      return dir;
    }
  }
  throw new Error(`no Runway package.json above ${from}`);
}

export const ROOT = findRoot(import.meta.dirname);

/** Whether the module at `url` (its `import.meta.url`) is the script node was started with, not an import. */
export function isMainModule(url: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === url;
}
