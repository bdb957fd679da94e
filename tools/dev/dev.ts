/**
 * `npm run dev`: the API on this checkout's embedded PostgreSQL (or on DATABASE_URL), migrated at start, with the
 * dev issuer. Edits under src/ and migrations/ are recompiled by SWC and the API restarts; the database keeps
 * running. Edits under web/ rebuild the back office. Ctrl-C stops the API, then the database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../root.js';
import { devDatabase } from './dev-database.js';
import { DEV_ISSUER_DIR, loadOrCreateSigningKey, serveDevIssuer } from './dev-issuer.js';
import { apiEnvironment, DEV_OPERATOR_EMAIL } from './dev-environment.js';
import { freePort, isFree, portNumber } from './ports.js';
import { runTool } from './run-tool.js';
import { buildWeb } from '../web/build.js';

const DEFAULT_PORT = 3000;
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  // The API and the compiler have process groups of their own, so that the terminal's signals (Ctrl-C, SIGHUP when it
  // closes) reach this process only: each is passed on (a SIGHUP as a SIGTERM), the API drains and exits, then the
  // rest stop.
  const children: ChildProcess[] = [];
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    children.forEach((child) => child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal));
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, stop);
  // With the terminal gone, say nothing rather than fail.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

  const database = await devDatabase(say);
  /** What to stop when the API has exited (or start-up failed), last started first; the database after them all. */
  const started: (() => Promise<unknown>)[] = [];
  try {
    // The dev issuer: `npm run token` signs with this key; the API fetches its JWKS over loopback, and the back office
    // signs in through it as it would through Cognito's managed login.
    const issuer = await serveDevIssuer(loadOrCreateSigningKey(DEV_ISSUER_DIR));
    started.push(() => issuer.close());
    const port = await apiPort();
    const compiler = await startCompiler();
    children.push(compiler);
    started.push(() => stopChild(compiler));
    const web = await buildWeb({ watch: true });
    started.push(() => web.stop());
    if (stopping) return 0;
    const api = spawn(
      process.execPath,
      ['--watch', '--watch-preserve-output', '--enable-source-maps', join(ROOT, 'dist', 'src', 'main.js')],
      {
        stdio: 'inherit',
        detached: true, // see above
        env: apiEnvironment({ port, issuer, databaseUrl: database.url }, process.env),
      },
    );
    say(
      `\nRunway (development; restarts when src/ or migrations/ change, rebuilds the back office when web/ does)\n` +
        `  API        http://localhost:${port}\n` +
        `  Readiness  http://localhost:${port}/health/ready\n` +
        `  API docs   http://localhost:${port}/docs (the document: /openapi.json)\n` +
        `  Admin      http://localhost:${port}/admin/ (the back office: sign in as admin)\n` +
        `  Database   ${database.url}\n` +
        `  Token      npm run token --silent -- --username alice [--groups admin]\n` +
        `  Emails     .data/mail (to ${DEV_OPERATOR_EMAIL}; each task link is also printed below)\n`,
    );
    children.push(api);
    return await exitOf(api);
  } finally {
    for (const stopIt of started.reverse()) await stopIt();
    await database.release();
  }
}

/** PORT when set; else 3000, or a free port when 3000 is taken (another `npm run dev`, say). */
async function apiPort(): Promise<number> {
  if (process.env.PORT?.trim()) return portNumber('PORT', process.env.PORT);
  if (await isFree(DEFAULT_PORT)) return DEFAULT_PORT;
  const port = await freePort();
  say(`Port ${DEFAULT_PORT} is in use by something else: the API takes ${port}.`);
  return port;
}

/**
 * SWC recompiling src/ and migrations/ into dist/ on every change; resolves once its first compilation is done, so
 * that the API, started after it, restarts only for later changes. Compile errors go to the terminal.
 */
function startCompiler(): Promise<ChildProcess> {
  const swc = join(ROOT, 'node_modules', '@swc', 'cli', 'bin', 'swc.js');
  const compiler = spawn(
    process.execPath,
    [swc, 'src', 'migrations', '-d', 'dist', '--config-file', '.swcrc', '--watch'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  return new Promise((ready, fail) => {
    compiler.once('exit', (code) => fail(new Error(`SWC stopped (exit code ${code})`)));
    compiler.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Watching for file changes')) ready(compiler);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  const exited = exitOf(child);
  child.kill('SIGTERM');
  await exited;
}

function exitOf(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? 1);
  return new Promise((done) => child.once('exit', (code) => done(code ?? 1)));
}

runTool('npm run dev', main);
