/**
 * `npm run build` when dist/ is missing or older than a source file (src, migrations, tools, bench, .swcrc,
 * package.json), so `npm run token`, `npm run dev` and the other scripts never run stale code after a pull.
 * Plain JavaScript: it runs before anything is compiled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = dirname(dirname(new URL(import.meta.url).pathname));
/** Every build writes it anew. */
const built = join(root, 'dist', 'src', 'main.js');
const sources = ['src', 'migrations', 'tools', 'bench'];

function newestSource() {
  let newest = Math.max(...['.swcrc', 'package.json'].map((file) => statSync(join(root, file)).mtimeMs));
  for (const folder of sources) {
    for (const file of readdirSync(join(root, folder), { recursive: true })) {
      if (/\.m?ts$/.test(file)) newest = Math.max(newest, statSync(join(root, folder, file)).mtimeMs);
    }
  }
  return newest;
}

if (!existsSync(built) || statSync(built).mtimeMs < newestSource()) {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
}
