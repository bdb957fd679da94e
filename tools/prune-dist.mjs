/**
 * Before `npm run build` compiles over dist/: removes what no source produces any more (a file deleted or renamed),
 * so that nothing stale is run or tested. Everything else stays in place, rather than dist/ being deleted first:
 * `npm run dev`'s API restarts when its compiled files change, and would stop restarting if they vanished.
 * Plain JavaScript: it runs before anything is compiled.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPILED, orphans } from './dist-sources.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');

if (existsSync(dist)) {
  for (const entry of readdirSync(dist)) {
    if (entry !== 'web' && !COMPILED.includes(entry))
      rmSync(join(dist, entry), { recursive: true, force: true });
  }
  for (const path of orphans(root)) rmSync(join(dist, path), { force: true });
}
