import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../tools/dev/embedded-postgres.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'dist', 'src', 'main.js');

export interface ServerProcess {
  readonly child: ChildProcess;
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

/** What production requires besides the database and Cognito: made-up secrets and a public URL. */
export const PRODUCTION_SECRETS = {
  TASK_LINK_SECRET: 'process-test-link-secret-0123456789abcdef',
  TASK_TOKEN_KEY: 'process-test-token-key-0123456789abcdef',
  PUBLIC_BASE_URL: 'https://api.example.com',
};

/** Runs the built app (`npm test` builds first) as a real process with the given environment. */
export async function startProcess(env: Record<string, string>, script = MAIN): Promise<ServerProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
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
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  let ended = false;
  void exited.then(() => (ended = true));
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    child,
    port,
    baseUrl,
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
        last = await fetch(baseUrl + path)
          .then((response) => response.status)
          .catch(() => undefined);
        if (last === status) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return last;
    },
  };
}

/** JSON log lines printed by a process (non-JSON lines are skipped). */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
