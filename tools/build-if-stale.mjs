/**
 * `npm run build` when dist/ is missing or older than a source file (src, migrations, tools, bench, the back
 * office in web/, .swcrc, package.json), so `npm run token`, `npm run dev` and the other scripts never run stale
 * code after a pull.
 * Plain JavaScript: it runs before anything is compiled.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

const root = dirname(dirname(new URL(import.meta.url).pathname));
/** Every build writes them anew. */
const built = join(root, 'dist', 'src', 'main.js');
const builtWeb = join(root, 'dist', 'web', 'index.html');
/** Each folder with the names of the files in it that the build reads. */
const sources = [
  ['src', /\.m?ts$/],
  ['migrations', /\.m?ts$/],
  ['tools', /\.m?ts$/],
  ['bench', /\.m?ts$/],
  ['web', /\.(tsx?|css|html)$/],
];

function newestSource() {
  let newest = Math.max(...['.swcrc', 'package.json'].map((file) => statSync(join(root, file)).mtimeMs));
  for (const [folder, pattern] of sources) {
    for (const file of readdirSync(join(root, folder), { recursive: true })) {
      if (pattern.test(file)) newest = Math.max(newest, statSync(join(root, folder, file)).mtimeMs);
    }
  }
  return newest;
}

if (!existsSync(built) || !existsSync(builtWeb) || statSync(built).mtimeMs < newestSource()) {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
}
