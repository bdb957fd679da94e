/**
 * The back office (web/) bundled by esbuild into dist/web: `index.html`, written from the web/index.html template,
 * and `assets/app-<hash>.js|.css`, content-hashed so the API can serve them as immutable.
 *
 *   node dist/tools/web/build.js [--watch]
 */
import * as esbuild from 'esbuild';
import { watch as watchFile } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { isMainModule, ROOT } from '../root.js';

const WEB = join(ROOT, 'web');
const TEMPLATE = join(WEB, 'index.html');
export const WEB_OUTDIR = join(ROOT, 'dist', 'web');
/** Where the API serves dist/web/assets. */
const ASSETS_URL = '/admin/assets';

export interface BuildWebOptions {
  /** Rebuild whenever a source or the template changes, until `stop()`. */
  watch?: boolean;
  outdir?: string;
}

export interface WebBuild {
  /** Paths of the first build's script and stylesheet. */
  script: string;
  stylesheet: string;
  stop(): Promise<void>;
}

export async function buildWeb(options: BuildWebOptions = {}): Promise<WebBuild> {
  const outdir = options.outdir ?? WEB_OUTDIR;
  let published: { script: string; stylesheet: string } | undefined;
  const indexHtml: esbuild.Plugin = {
    name: 'index-html',
    setup(build) {
      build.onEnd(async (result) => {
        if (result.errors.length === 0 && result.metafile) published = await publish(result.metafile, outdir);
      });
    },
  };
  const config: esbuild.BuildOptions = {
    absWorkingDir: ROOT,
    entryPoints: { app: join(WEB, 'src', 'main.tsx') },
    outdir: join(outdir, 'assets'),
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(WEB, 'tsconfig.json'),
    entryNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
    plugins: [indexHtml],
  };

  if (!options.watch) {
    await esbuild.build(config);
    return { ...published!, stop: () => Promise.resolve() };
  }
  const context = await esbuild.context(config);
  try {
    await context.rebuild();
  } catch (error) {
    await context.dispose();
    throw error;
  }
  await context.watch();
  const template = watchFile(TEMPLATE, () => void context.rebuild().catch(() => undefined));
  return {
    ...published!,
    async stop() {
      template.close();
      await context.dispose();
    },
  };
}

/** Writes index.html with the hashed names, then removes the outputs of earlier builds. */
async function publish(
  metafile: esbuild.Metafile,
  outdir: string,
): Promise<{ script: string; stylesheet: string }> {
  const entry = Object.entries(metafile.outputs).find(([, output]) => output.entryPoint !== undefined);
  const [script, output] = entry ?? [];
  const stylesheet = output?.cssBundle;
  if (!script || !stylesheet) throw new Error('the web build produced no script or no stylesheet');

  const template = await readFile(TEMPLATE, 'utf8');
  if (!template.includes('{{script}}') || !template.includes('{{stylesheet}}')) {
    throw new Error(`${relative(ROOT, TEMPLATE)} must contain {{script}} and {{stylesheet}}`);
  }
  const html = template
    .replace('{{script}}', `${ASSETS_URL}/${basename(script)}`)
    .replace('{{stylesheet}}', `${ASSETS_URL}/${basename(stylesheet)}`);
  await mkdir(outdir, { recursive: true });
  await writeFile(join(outdir, 'index.html'), html);

  const current = new Set(Object.keys(metafile.outputs).map((path) => basename(path)));
  const assets = join(outdir, 'assets');
  for (const file of await readdir(assets)) {
    if (!current.has(file)) await rm(join(assets, file), { recursive: true, force: true });
  }
  return { script: join(ROOT, script), stylesheet: join(ROOT, stylesheet) };
}

async function describeSize(path: string): Promise<string> {
  const { size } = await stat(path);
  const gzipped = gzipSync(await readFile(path)).length;
  return `${relative(ROOT, path)}  ${(size / 1024).toFixed(1)} KiB (gzip ${(gzipped / 1024).toFixed(1)} KiB)`;
}

if (isMainModule(import.meta.url)) {
  const watch = process.argv.includes('--watch');
  const build = await buildWeb({ watch });
  console.log(`${await describeSize(build.script)}\n${await describeSize(build.stylesheet)}`);
  if (watch) {
    console.log('watching web/ for changes');
    process.once('SIGINT', () => void build.stop().then(() => process.exit(0)));
  }
}
