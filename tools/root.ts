import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
