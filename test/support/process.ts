import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');

export interface ServerProcess {
  readonly child: ChildProcess;
  /** The port it listens on: `PORT` when given; otherwise the one the system gave it, known once it listens. */
  readonly port: number;
  readonly baseUrl: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** Resolves once the process has printed `text` on stdout (or exited). */
  waitForOutput(text: string): Promise<void>;
  /** Polls until GET path answers `status` or the process exits; returns the last status seen. */
  waitFor(path: string, status: number, timeoutMs?: number): Promise<number | undefined>;
}

/**
 * The environment as the image's process would read it here: a variable naming a file the image carries but this
 * checkout has not (Amazon RDS's authorities, fetched at build) names a readable stand-in.
 */
export function withImageFiles(environment: Record<string, string>): Record<string, string> {
  const standIn = join(ROOT, 'package.json');
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      value.startsWith('/app/certs/') ? standIn : value,
    ]),
  );
}

/** What production requires besides the database and Cognito: made-up secrets and a public URL. */
export const PRODUCTION_SECRETS = {
  TASK_LINK_SECRET: 'process-test-link-secret-0123456789abcdef',
  TASK_TOKEN_KEY: 'process-test-token-key-0123456789abcdef',
  PUBLIC_BASE_URL: 'https://api.example.com',
};

/** Processes still running once a test file is done (a test failed before stopping its own) are killed. */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** The line the app logs once it listens (src/server.ts). */
const LISTENING = /Runway listening on http:\/\/[^"\s]+:(\d+)/;

/**
 * Runs the built app (`npm test` builds first) as a real process with the given environment. Without a `PORT`, it
 * listens on a port the system picks (`PORT=0`), read from its log: a port picked beforehand could be taken by
 * another process (or an outgoing connection) before the app binds it.
 */
export function startProcess(env: Record<string, string>, script = MAIN): Promise<ServerProcess> {
  let port = Number(env.PORT) > 0 ? Number(env.PORT) : undefined;
  let out = '';
  let err = '';
  const child = spawn(process.execPath, [script], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      ...PRODUCTION_SECRETS,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    port ??= Number(LISTENING.exec(out)?.[1]) || undefined;
  });
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let ended = false;
  running.add(child);
  void exited.then(() => {
    ended = true;
    running.delete(child);
  });
  const listening = () => {
    if (port === undefined) throw new Error(`${script} is not listening (yet):\n${out}${err}`);
    return port;
  };
  const baseUrl = () => `http://127.0.0.1:${listening()}`;
  return Promise.resolve({
    child,
    get port() {
      return listening();
    },
    get baseUrl() {
      return baseUrl();
    },
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForOutput(text) {
      while (!ended && !out.includes(text)) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    async waitFor(path, status, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      let last: number | undefined;
      while (!ended && Date.now() < deadline) {
        last =
          port === undefined
            ? undefined
            : await fetch(baseUrl() + path)
                .then((response) => response.status)
                .catch(() => undefined);
        if (last === status) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return last;
    },
  });
}

/** JSON log lines printed by a process (non-JSON lines are skipped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
