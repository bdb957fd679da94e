/**
 * One app process (`node dist/src/main.js`) on a fixed loopback port, which it keeps across restarts. A process that
 * exits by itself (a crash) is recorded and started again, as an orchestrator would. The ids of the requests it logs
 * are collected: they are the requests it received.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from '../root.js';

const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const READY_TIMEOUT_MS = 90_000;
/** Past the instances' SHUTDOWN_TIMEOUT_MS (25 s): a process still running then is killed. */
const EXIT_TIMEOUT_MS = 35_000;
/** Crashes after which the instance stays down. */
const MAX_RESTARTS = 5;
const LOG_LINES_KEPT = 30;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
  /** When it logged that it had received SIGTERM (the line's own time): from then on, responses say close. */
  drainingAt?: number;
  /** What the process printed last (warnings, errors, a stack trace). */
  lastLines: string;
}

export class AppInstance {
  /** Whether the load sends requests here: from ready until the process exits. */
  up = false;
  /** Exits nobody asked for. */
  readonly crashes: Exit[] = [];
  /**
   * The request ids in its log lines, across restarts. Every request is logged once it ends, answered or not (the
   * client gone, the connection reset), so an id is here once the process has read that request; complete once
   * terminate() has returned.
   */
  readonly received = new Set<string>();
  private child: ChildProcess | undefined;
  private exited: Promise<Exit> | undefined;
  private starting: Promise<void> | undefined;
  private stopping = false;
  private signal: AbortSignal = new AbortController().signal;
  private log: string[] = [];

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the process and waits until readiness answers 200; `signal` aborts the wait. */
  launch(signal: AbortSignal): Promise<void> {
    this.stopping = false;
    this.signal = signal;
    return this.start();
  }

  /** SIGTERM, then its exit (SIGKILL if it takes longer than EXIT_TIMEOUT_MS); no restart. */
  async terminate(): Promise<Exit | undefined> {
    this.stopping = true;
    await this.starting?.catch(() => undefined);
    const child = this.child;
    if (child && running(child)) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
      await this.exited?.finally(() => clearTimeout(kill));
    }
    return this.exited;
  }

  private start(): Promise<void> {
    this.starting = this.spawn().then(() => this.waitUntilReady());
    return this.starting;
  }

  private async spawn(): Promise<void> {
    this.log = [];
    const child = spawn(process.execPath, [MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(this.port), ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    // Should the harness itself end abruptly, the process goes with it.
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    // Its first line in the Shutdown context is the one saying that it received the signal.
    let drainingAt: number | undefined;
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => {
        const entry = this.keep(line);
        if (drainingAt === undefined && entry?.context === 'Shutdown' && entry.time !== undefined)
          drainingAt = Date.parse(entry.time);
      });
    let exitedAt = 0;
    child.once('exit', () => {
      exitedAt = Date.now();
      this.up = false;
    });
    // 'close' comes after 'exit' once the output is read to its end: every request id is in `received` by then.
    this.exited = new Promise((resolve) =>
      child.once('close', (code, signal) => {
        process.off('exit', kill);
        const exit = { code, signal, at: exitedAt, drainingAt, lastLines: this.log.join('\n') };
        resolve(exit);
        if (this.stopping) return;
        this.crashes.push(exit);
        if (this.crashes.length <= MAX_RESTARTS && !this.signal.aborted) this.start().catch(() => undefined);
      }),
    );
    await new Promise((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
  }

  private async waitUntilReady(): Promise<void> {
    const child = this.child!;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.stopping) {
      this.signal.throwIfAborted();
      if (!running(child))
        throw new Error(`instance ${this.name} exited before it was ready:\n${this.log.join('\n')}`);
      if (Date.now() > deadline)
        throw new Error(`instance ${this.name} not ready within ${READY_TIMEOUT_MS / 1000} s`);
      const status = await fetch(`${this.baseUrl}/health/ready`, { signal: AbortSignal.timeout(2_000) })
        .then(async (response) => {
          await response.body?.cancel();
          return response.status;
        })
        .catch(() => 0);
      if (status === 200) {
        this.up = running(child) && !this.stopping;
        return;
      }
      await sleep(100, undefined, { signal: this.signal });
    }
  }

  private keep(line: string): LogEntry | undefined {
    if (line === '') return undefined;
    this.log.push(line);
    if (this.log.length > LOG_LINES_KEPT) this.log.shift();
    const entry = parseLogLine(line);
    // `req` is on the request's own line and on every line logged while serving it.
    if (typeof entry?.req?.id === 'string') this.received.add(entry.req.id);
    return entry;
  }
}

interface LogEntry {
  time?: string;
  context?: string;
  req?: { id?: unknown };
}

function parseLogLine(line: string): LogEntry | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as LogEntry;
  } catch {
    return undefined;
  }
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}
