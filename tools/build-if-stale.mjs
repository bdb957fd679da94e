/**
 * `npm run build` when dist/ is missing or older than a source file (src, migrations, tools, bench, the back
 * office in web/, .swcrc, package.json), or holds a compiled file whose source was deleted (a migration regenerated:
 * `db:generate` would compare with the old one), so `npm run token`, `npm run dev` and the other scripts never run
 * stale code after a pull. Each compiled file is compared with its own source: `npm run dev` recompiles only what
 * changed.
 * Plain JavaScript: it runs before anything is compiled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMPILED, orphans } from './dist-sources.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
/** Every full build writes them anew. */
const built = join(root, 'dist', 'src', 'main.js');
const builtWeb = join(root, 'dist', 'web', 'index.html');
/** The back office's sources, bundled into dist/web. */
const web = /\.(tsx?|css|html)$/;

const modified = (path) => statSync(path).mtimeMs;

function isStale() {
  if (!existsSync(built) || !existsSync(builtWeb)) return true;
  if (['.swcrc', 'package.json'].some((file) => modified(join(root, file)) > modified(built))) return true;
  if (orphans(root).length > 0) return true;
  for (const folder of COMPILED) {
    for (const file of readdirSync(join(root, folder), { recursive: true })) {
      if (!file.endsWith('.ts')) continue;
      const output = join(root, 'dist', folder, file.replace(/\.ts$/, '.js'));
      if (!existsSync(output) || modified(output) < modified(join(root, folder, file))) return true;
    }
  }
  const webBuiltAt = modified(builtWeb);
  return readdirSync(join(root, 'web'), { recursive: true }).some(
    (file) => web.test(file) && modified(join(root, 'web', file)) > webBuiltAt,
  );
}

// The build's output goes to stderr: what the script itself prints (`npm run token`'s token) may be captured.
if (isStale()) execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: ['ignore', 2, 2] });
